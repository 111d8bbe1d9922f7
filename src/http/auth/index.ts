export {
  AUTH_TOKEN_PATTERN,
  type AuthenticateOptions,
  createHttpAuth,
  type HttpAuth,
} from './authenticate.js';
export {
  type CookieSite,
  checkCookieOrigin,
  clearEventsCookie,
  EVENTS_COOKIE_NAME,
  EVENTS_COOKIE_PATH,
  readEventsCookie,
  setEventsCookie,
} from './events-cookie.js';
export { LOGOUT_REASON, logoutCredential, registerCredential } from './register-credential.js';
export { RocketChatHeaderAuth, type RocketChatHeaderAuthOptions } from './rocketchat-header-auth.js';
export {
  type IssuedToken,
  issueAccessToken,
  issueSseToken,
  type TokenSubject,
  type TokenType,
  USER_ID_PATTERN,
  verifyToken,
} from './tokens.js';
