/**
 * What a user gives the gateway to act as them upstream. A password is only ever exchanged for a
 * resume token (it is never stored); the token is what sessions log in with.
 */
export type RocketChatCredentials =
  | { readonly kind: 'resume'; readonly token: string }
  | { readonly kind: 'password'; readonly username: string; readonly password: string };

export interface LoginResult {
  readonly userId: string;
  /** The resume token: for a resume login, the same token that was given. */
  readonly token: string;
  readonly tokenExpiresAt: Date | undefined;
}
