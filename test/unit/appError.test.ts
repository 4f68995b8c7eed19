import { AppError } from '../../shared/core/errors';
import { BlobGoneError, ExpiredUrlError } from '../../shared/ingest/blobDownload';
import { ConfigError, loadConfig } from '../../shared/core/config';
import { BadMessageError, parseMessage } from '../../shared/core/contracts';
import { DefenderApiError } from '../../shared/defender/defenderClient';
import { LeaseLostError } from '../../shared/storage/fileLease';
import { TableTransactionError } from '../../shared/storage/transactionBody';
import { UrlRefusedError } from '../../shared/defender/urlPolicy';
import { OrderError } from '../../tools/query/diff';
import { NotFoundError, UsageError } from '../../tools/query/errors';

describe("AppError: the one base of the app's own errors", () => {
  it('every error class of the app extends it and is named after itself; its fields stay as they were', () => {
    const errors = [
      new BlobGoneError('gone'),
      new ExpiredUrlError('expired'),
      new ConfigError('X', 'bad'),
      new BadMessageError('bad message'),
      new DefenderApiError('throttled', { status: 429, retriable: true }),
      new LeaseLostError('lost'),
      new TableTransactionError('refused', 400, 'InvalidInput', 3),
      new UrlRefusedError('refused'),
      new OrderError('order'),
      new UsageError('usage'),
      new NotFoundError('not found'),
    ];
    for (const err of errors) {
      expect(err).toBeInstanceOf(AppError);
      expect(err).toBeInstanceOf(Error);
      expect(err.name).toBe(err.constructor.name);
    }
    expect(errors[2]).toMatchObject({ setting: 'X', message: 'Setting X: bad' });
    expect(errors[4]).toMatchObject({ status: 429, retriable: true, message: 'throttled' });
    expect(errors[6]).toMatchObject({ statusCode: 400, code: 'InvalidInput', index: 3 });
  });

  it('errors the app raises from real input are AppErrors; a runtime error is not', () => {
    expect(() => loadConfig({ SAS_VALID_HOURS: 'soon' })).toThrow(AppError);
    expect(() => parseMessage('not base64 json')).toThrow(BadMessageError);
    expect(() => parseMessage('not base64 json')).toThrow(AppError);
    expect(new TypeError('x')).not.toBeInstanceOf(AppError);
  });

  it('keeps a cause', () => {
    const cause = new Error('socket hang up');
    expect(new AppError('download failed', { cause }).cause).toBe(cause);
  });
});
