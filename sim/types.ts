/**
 * The simulator's data model: the subset of Rocket.Chat's core-typings (IUser, IRoom, ISubscription,
 * IMessage) that the gateway can observe. Dates are `Date` objects in memory; they become
 * `{"$date": ms}` on DDP and ISO strings on REST (docs/simulator-protocol.md §5).
 */

export type UserStatus = 'online' | 'away' | 'busy' | 'offline';
export type RoomType = 'c' | 'p' | 'd';
export type RoomRole = 'owner' | 'moderator' | 'leader';

export interface UserRef {
  _id: string;
  username: string;
  name?: string;
}

export interface SimUser {
  _id: string;
  createdAt: Date;
  username: string;
  name: string;
  emails: { address: string; verified: boolean }[];
  type: 'user' | 'bot';
  active: boolean;
  roles: string[];
  status: UserStatus;
  statusDefault: UserStatus;
  statusText?: string;
  utcOffset: number;
  _updatedAt: Date;
  /** Plain password, kept so both digest and plain-string logins can be checked. */
  password: string;
  /** Lowercase hex SHA-256 of `password`: what `{digest, algorithm: "sha-256"}` logins send. */
  passwordDigest: string;
}

export interface Mention {
  _id: string;
  username: string;
  name?: string;
  type: 'user' | 'team';
}

export interface SimMessage {
  _id: string;
  rid: string;
  msg: string;
  ts: Date;
  u: UserRef;
  _updatedAt: Date;
  t?: string;
  tmid?: string;
  tshow?: boolean;
  alias?: string;
  emoji?: string;
  avatar?: string;
  groupable?: boolean;
  bot?: Record<string, unknown>;
  attachments?: unknown[];
  customFields?: Record<string, unknown>;
  role?: string;
  urls?: { url: string }[];
  mentions?: Mention[];
  channels?: { _id: string; name: string }[];
  md?: unknown[];
  reactions?: Record<string, { usernames: string[]; names?: string[] }>;
  editedAt?: Date;
  editedBy?: { _id: string; username: string };
  tcount?: number;
  tlm?: Date;
  replies?: string[];
}

export interface DeletedMessage {
  _id: string;
  rid: string;
  _deletedAt: Date;
  /** The message as it was when deleted (Rocket.Chat keeps it in the trash collection). */
  message: SimMessage;
}

export interface SimRoom {
  _id: string;
  t: RoomType;
  name?: string;
  fname?: string;
  u?: { _id: string; username: string };
  usernames?: string[];
  uids?: string[];
  usersCount: number;
  msgs: number;
  ts: Date;
  _updatedAt: Date;
  default: boolean;
  ro: boolean;
  sysMes: boolean;
  lm?: Date;
  lastMessage?: SimMessage;
  archived?: boolean;
  topic?: string;
  description?: string;
  announcement?: string;
  muted?: string[];
  encrypted?: boolean;
  joinCodeRequired?: boolean;
  customFields?: Record<string, unknown>;
}

export interface SimSubscription {
  _id: string;
  rid: string;
  u: UserRef;
  name: string;
  fname?: string;
  t: RoomType;
  ts: Date;
  ls: Date;
  lr?: Date;
  _updatedAt: Date;
  open: boolean;
  alert: boolean;
  unread: number;
  userMentions: number;
  groupMentions: number;
  roles?: RoomRole[];
  f?: boolean;
  archived?: boolean;
}
