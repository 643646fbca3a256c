/**
 * Boolean state kept as bits of one number: on objects that exist once per connection, eleven
 * boolean fields cost 88 bytes of heap each, one small integer none beyond its field.
 */

/** `flags` with `bit` set (`on`) or cleared. */
export function withFlag(flags: number, bit: number, on: boolean): number {
  return on ? flags | bit : flags & ~bit;
}
