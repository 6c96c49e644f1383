/**
 * The accuracy–cost Pareto front: the points no other point beats on both counts.
 * A point is dominated when another has accuracy at least as high and cost at
 * most as low, and is strictly better in one of them.
 */
import { ConfigError } from '../errors';

/**
 * The non-dominated items of `items` (higher `accuracyOf` is better, lower
 * `costOf` is better), sorted by cost ascending, so accuracy ascends strictly
 * along the front. An item tying a front item in both accuracy and cost does
 * not dominate it (nor it the item), so both are kept, in input order.
 *
 * O(n log n): after sorting by cost (ties: highest accuracy first) an item is on
 * the front exactly when it beats the best accuracy of every cheaper item.
 *
 * @throws ConfigError naming the item's index when an accuracy or cost is not a
 *   finite number (a NaN would make every comparison false and hide points).
 * @example
 * paretoFront([{a: 0.9, e: 10}, {a: 0.8, e: 20}, {a: 0.95, e: 30}], (p) => p.a, (p) => p.e)
 * // [{a: 0.9, e: 10}, {a: 0.95, e: 30}]
 */
export function paretoFront<T>(
  items: readonly T[],
  accuracyOf: (item: T) => number,
  costOf: (item: T) => number,
): T[] {
  const scored = items.map((item, index) => {
    const accuracy = accuracyOf(item);
    const cost = costOf(item);
    if (!Number.isFinite(accuracy)) throw new ConfigError(`items[${index}].accuracy`, accuracy, 'a finite number');
    if (!Number.isFinite(cost)) throw new ConfigError(`items[${index}].cost`, cost, 'a finite number');
    return { item, index, accuracy, cost };
  });
  scored.sort((p, q) => p.cost - q.cost || q.accuracy - p.accuracy || p.index - q.index);
  const front: T[] = [];
  let bestAccuracy = -Infinity;
  let bestCost = NaN;
  for (const p of scored) {
    if (p.accuracy > bestAccuracy) {
      front.push(p.item);
      bestAccuracy = p.accuracy;
      bestCost = p.cost;
    } else if (p.accuracy === bestAccuracy && p.cost === bestCost) {
      front.push(p.item); // an exact tie with a front point: neither dominates the other
    }
  }
  return front;
}
