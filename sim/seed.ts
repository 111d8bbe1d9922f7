/**
 * The default world (brief "Seed on start"): alice, bob, carol (+ the rocket.cat bot every
 * Rocket.Chat has), public `GENERAL` with all three, private `ops` with alice and bob (alice
 * owns it), and the alice–bob DM. User ids are random Meteor ids, fixed for the process.
 */
import type { SimContext } from './context.js';
import type { SimControl } from './control.js';

export const SEED_USERS = [
  { username: 'alice', password: 'alice-pass', name: 'Alice' },
  { username: 'bob', password: 'bob-pass', name: 'Bob' },
  { username: 'carol', password: 'carol-pass', name: 'Carol' },
] as const;

export function seedWorld(ctx: SimContext, control: SimControl): void {
  for (const user of SEED_USERS) {
    control.createUser({ ...user });
  }
  control.createUser({
    username: 'rocket.cat',
    password: `rocket.cat-${Date.now()}`,
    name: 'Rocket.Cat',
    roles: ['bot'],
  });
  const bot = ctx.store.userByUsername('rocket.cat');
  if (bot) {
    bot.type = 'bot';
  }
  const [alice, bob, carol] = SEED_USERS.map(({ username }) => ctx.store.userByUsername(username));
  if (!alice || !bob || !carol) {
    throw new Error('seed users missing');
  }
  ctx.rooms.createRoom({
    _id: 'GENERAL',
    t: 'c',
    name: 'general',
    members: [alice, bob, carol],
    default: true,
  });
  ctx.rooms.createRoom({ t: 'p', name: 'ops', owner: alice, members: [alice, bob] });
  ctx.rooms.createDirect([alice, bob]);
}
