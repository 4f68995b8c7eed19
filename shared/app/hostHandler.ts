import { redactError } from '../core/redact';

/**
 * Wrap a Functions handler so an error it throws reaches the host redacted: the host logs the message and
 * stack of whatever a handler throws, outside our redacting logger.
 */
export function redactingHandler<A extends unknown[], R>(handler: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await handler(...args);
    } catch (err) {
      throw redactError(err);
    }
  };
}
