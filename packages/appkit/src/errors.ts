const USER_ERROR = Symbol.for("udpcam.UserError");

/**
 * A mistake the user can fix (bad flag, missing file, port in use): the app
 * prints its message as one line and exits with code 2, without a stack.
 */
export class UserError extends Error {
  readonly [USER_ERROR] = true;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UserError";
  }

  /** True also for a UserError from another installed copy of this package. */
  static isInstance(value: unknown): value is UserError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[USER_ERROR] === true;
  }
}
