/**
 * A min-heap of items by due time, first in first out among equal times: the one queue
 * behind the single timer that sends delayed datagrams. Parallel arrays, so pushing an
 * item allocates nothing once the arrays have grown.
 */
export class DueQueue<T> {
  #times: number[] = [];
  #order: number[] = [];
  #items: (T | undefined)[] = [];
  #size = 0;
  #pushed = 0;

  get size(): number {
    return this.#size;
  }

  /** The earliest due time, or `Infinity` when empty. */
  peekTime(): number {
    return this.#size > 0 ? this.#times[0]! : Number.POSITIVE_INFINITY;
  }

  push(dueMs: number, item: T): void {
    let at = this.#size++;
    const order = this.#pushed++;
    const times = this.#times;
    const orders = this.#order;
    const items = this.#items;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.#before(dueMs, order, times[parent]!, orders[parent]!)) break;
      times[at] = times[parent]!;
      orders[at] = orders[parent]!;
      items[at] = items[parent];
      at = parent;
    }
    times[at] = dueMs;
    orders[at] = order;
    items[at] = item;
  }

  /** Removes and returns the earliest item if it is due at or before `nowMs`. */
  popDue(nowMs: number): T | undefined {
    if (this.#size === 0 || this.#times[0]! > nowMs) return undefined;
    return this.#popFirst();
  }

  #popFirst(): T | undefined {
    const times = this.#times;
    const orders = this.#order;
    const items = this.#items;
    const first = items[0];
    const last = --this.#size;
    const time = times[last]!;
    const order = orders[last]!;
    const item = items[last];
    items[last] = undefined;
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= last) break;
      if (child + 1 < last && this.#before(times[child + 1]!, orders[child + 1]!, times[child]!, orders[child]!))
        child++;
      if (!this.#before(times[child]!, orders[child]!, time, order)) break;
      times[at] = times[child]!;
      orders[at] = orders[child]!;
      items[at] = items[child];
      at = child;
    }
    if (last > 0) {
      times[at] = time;
      orders[at] = order;
      items[at] = item;
    }
    return first;
  }

  #before(timeA: number, orderA: number, timeB: number, orderB: number): boolean {
    return timeA < timeB || (timeA === timeB && orderA < orderB);
  }
}
