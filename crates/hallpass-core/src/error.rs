//! Domain errors: what went wrong in terms a user of the API understands. The server maps each to
//! Better Auth's `{"message","code"}` body and status.

use crate::store::StoreError;

/// Everything the domain can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// A field of the input is invalid; the message names the field.
    #[error("{message}")]
    InvalidField {
        /// The offending field.
        field: String,
        /// A sentence naming the field and what is wrong.
        message: String,
    },
    /// A required profile field is missing on sign-up.
    #[error("{0} is required")]
    MissingField(String),
    /// A server-owned field was sent.
    #[error("{0} is not allowed to be set")]
    FieldNotAllowed(String),
    /// The email is not a valid address.
    #[error("Invalid email")]
    InvalidEmail,
    /// The new password is shorter than the minimum.
    #[error("Password too short")]
    PasswordTooShort,
    /// The password is longer than the maximum.
    #[error("Password too long")]
    PasswordTooLong,
    /// The email is taken.
    #[error("User already exists. Use another email.")]
    UserAlreadyExists,
    /// Sign-in failed; the same answer whether the email or the password was wrong.
    #[error("Invalid email or password")]
    InvalidEmailOrPassword,
    /// The current password given to change-password is wrong.
    #[error("Invalid password")]
    InvalidPassword,
    /// The user has no password (no credential account).
    #[error("Credential account not found")]
    CredentialAccountNotFound,
    /// update-user tried to change the email.
    #[error("Email can not be updated")]
    EmailCannotBeUpdated,
    /// update-user had nothing to change.
    #[error("No fields to update")]
    NoFieldsToUpdate,
    /// No valid session.
    #[error("Unauthorized")]
    Unauthorized,
    /// The session is older than the freshness window the action needs.
    #[error("Session is not fresh")]
    SessionNotFresh,
    /// No such user.
    #[error("User not found")]
    UserNotFound,
    /// A reset or verification token is unknown, forged, used or expired.
    #[error("Invalid token")]
    InvalidToken,
    /// A verification link was opened in another user's session.
    #[error("Invalid user")]
    InvalidUser,
    /// A verification token has expired.
    #[error("Token expired")]
    TokenExpired,
    /// Sign-in before the address was verified, when verification is required.
    #[error("Email not verified")]
    EmailNotVerified,
    /// A verification mail asked for an address already verified.
    #[error("Email is already verified")]
    EmailAlreadyVerified,
    /// A verification mail asked for another address than the session's.
    #[error("Email mismatch")]
    EmailMismatch,
    /// change-email to the current address.
    #[error("Email is the same")]
    EmailIsTheSame,
    /// A destructive action without a password needs a recent sign-in.
    #[error("Session expired. Re-authenticate to perform this action.")]
    SessionExpired,
    /// Too much password work is queued; try again shortly.
    #[error("Too many requests. Please try again later.")]
    Busy,
    /// A storage or internal failure. The detail is for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for DomainError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(field) if field == "email" => DomainError::UserAlreadyExists,
            other => DomainError::Internal(other.to_string()),
        }
    }
}
