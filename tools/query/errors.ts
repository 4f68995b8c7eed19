// Exit codes of the query CLI (docs/query.md) and the errors that carry them.
import { AppError } from '../../shared/core/errors';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_NOT_FOUND = 3;

/** Wrong command line: unknown command or option, missing or extra arguments (exit 2, usage printed). */
export class UsageError extends AppError {}

/** An unknown snapshot or device, or a snapshot argument nothing matches (exit 3). */
export class NotFoundError extends AppError {}
