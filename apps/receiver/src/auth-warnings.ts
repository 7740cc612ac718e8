/**
 * A key on one side only, or different keys on the two sides, makes the
 * receiver drop every datagram. Silence would leave the user guessing: the
 * first datagram dropped for each such reason earns one warning saying what to
 * fix. (The key itself is never part of a message.)
 */
export const AUTH_PROBLEMS = [
  {
    counter: "datagramsAuthRequired",
    message:
      "datagrams carry an authentication tag but no --key is configured, so they are dropped: the sender uses a shared key; give the receiver the same --key (or --key-file, or RECEIVER_KEY)",
  },
  {
    counter: "datagramsUntagged",
    message:
      "datagrams arrive without an authentication tag and are dropped because --key is set: give the sender the same --key (or --key-file, or SENDER_KEY), or drop the receiver's key",
  },
  {
    counter: "datagramsUnauthenticated",
    message:
      "datagrams arrive with an authentication tag that does not match --key and are dropped: the sender uses a different key (give both sides the same one), or someone is sending forged datagrams",
  },
] as const;

export type AuthProblem = (typeof AUTH_PROBLEMS)[number];

/** Watches the protocol's counters; `check` returns each problem the first time its counter moves. */
export class AuthWatch {
  readonly #warned = new Set<string>();

  check(protocol: Readonly<Record<string, unknown>>): AuthProblem[] {
    const found: AuthProblem[] = [];
    for (const problem of AUTH_PROBLEMS) {
      const count = protocol[problem.counter];
      if (typeof count !== "number" || count === 0 || this.#warned.has(problem.counter)) continue;
      this.#warned.add(problem.counter);
      found.push(problem);
    }
    return found;
  }
}
