// The one base class of this app's own errors, so `instanceof AppError` separates ours from a library's.

/**
 * An error this app raises on purpose, as opposed to one from a library or the runtime: `instanceof AppError`
 * tells them apart, and `name` is the subclass's own name (`ConfigError`, `LeaseLostError`...) without each
 * class setting it. Subclasses keep their own fields (a setting, a status, `retriable`); the base adds none, so
 * a field means the same thing wherever it appears.
 */
export class AppError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
