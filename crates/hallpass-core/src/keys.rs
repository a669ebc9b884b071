//! Signing keys and JWTs, as Better Auth's `jwt()` plugin keeps and uses them (reference, 9.2):
//! Ed25519 keys in the `jwks` table, the public JWK as JSON, the private JWK encrypted with the
//! server secret; compact EdDSA JWS tokens with `kid` = the key's row id. Signing and verifying go
//! through the `jsonwebtoken` crate, with the algorithm pinned to EdDSA.

use crate::clock::{now, Timestamp};
use crate::id::new_id;
use crate::secret::Secret;
use crate::store::{KeyStore, StoreError, StoredKey};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64URL, Engine};
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::rngs::OsRng;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::RwLock;

/// Keys stay published this long after they expire (Better Auth's default grace period, 30 days).
const GRACE_SECONDS: i64 = 30 * 24 * 3600;
/// How long the key ring trusts its in-memory copy before reading the table again, so that keys
/// rotated by another process are picked up.
const RELOAD_SECONDS: i64 = 60;
/// A token signed by a key this process does not know makes it read the table again, at most this
/// often (so forged `kid`s cannot turn into a database query each).
const UNKNOWN_KID_RELOAD_SECONDS: i64 = 5;
/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY_SECONDS: u64 = 5;

/// Why a JWT was refused. The detail is for logs; callers answer 401 whatever it is.
#[derive(Debug, thiserror::Error)]
pub enum JwtRefusal {
    /// Not a compact JWS, or its header is unreadable.
    #[error("malformed token")]
    Malformed,
    /// No published key has this `kid`.
    #[error("unknown signing key")]
    UnknownKey,
    /// Bad signature, wrong algorithm, issuer or audience, expired, or a claim missing.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The key table could not be read.
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// A usable signing key.
#[derive(Clone)]
pub struct SigningKeyPair {
    /// The `kid` (row id).
    pub id: String,
    /// The key itself, opened once (its public half computed once, not per signature).
    key: Arc<SigningKey>,
    /// `base64url({"alg":"EdDSA","kid":…})`: the same for every token this key signs.
    header: Arc<str>,
    expires_at: Option<Timestamp>,
}

impl std::fmt::Debug for SigningKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKeyPair({})", self.id)
    }
}

impl SigningKeyPair {
    fn new(id: String, key: SigningKey, expires_at: Option<Timestamp>) -> SigningKeyPair {
        let header = B64URL.encode(json!({"alg": "EdDSA", "kid": id}).to_string());
        SigningKeyPair {
            id,
            key: Arc::new(key),
            header: header.into(),
            expires_at,
        }
    }

    /// Signs claims as a compact JWS with `{"alg":"EdDSA","kid":…}` (no `typ`, as Better Auth).
    pub fn sign(&self, claims: &Value) -> Result<String, StoreError> {
        let payload = serde_json::to_vec(claims)
            .map_err(|e| StoreError::Backend(format!("cannot sign a JWT: {e}")))?;
        Ok(self.sign_payload(&payload))
    }

    /// A JWS over claims already written as JSON.
    pub fn sign_payload(&self, payload: &[u8]) -> String {
        use ed25519_dalek::Signer;
        // header.payload.signature, each base64url without padding: 4/3 of the bytes plus 86.
        let mut jws = String::with_capacity(self.header.len() + payload.len() * 4 / 3 + 96);
        jws.push_str(&self.header);
        jws.push('.');
        B64URL.encode_string(payload, &mut jws);
        let signature = self.key.sign(jws.as_bytes());
        jws.push('.');
        B64URL.encode_string(signature.to_bytes(), &mut jws);
        jws
    }
}

/// What a JWT must be to be accepted: its issuer and audience.
#[derive(Clone, Debug)]
pub struct Expected {
    /// `iss`.
    pub issuer: String,
    /// `aud`.
    pub audience: String,
}

/// Makes a new Ed25519 key in the form the `jwks` table holds.
pub fn generate(secret: &Secret, now: Timestamp) -> StoredKey {
    let key = SigningKey::generate(&mut OsRng);
    let x = B64URL.encode(key.verifying_key().to_bytes());
    let d = B64URL.encode(key.to_bytes());
    let public = json!({"crv": "Ed25519", "x": x, "kty": "OKP"});
    let private = json!({"crv": "Ed25519", "d": d, "x": x, "kty": "OKP"});
    StoredKey {
        id: new_id(),
        public_key: public.to_string(),
        // Better Auth stores JSON.stringify(symmetricEncrypt(JSON.stringify(jwk))): a quoted hex string.
        private_key: Value::String(secret.encrypt(&private.to_string())).to_string(),
        created_at: now,
        expires_at: None,
        alg: Some("EdDSA".into()),
        crv: Some("Ed25519".into()),
    }
}

/// Opens a stored key with the secret; None if it is not an Ed25519 key this secret can open.
pub fn open(stored: &StoredKey, secret: &Secret) -> Option<SigningKeyPair> {
    if stored.alg.as_deref().is_some_and(|a| a != "EdDSA") {
        return None;
    }
    let jwk_text = match serde_json::from_str::<Value>(&stored.private_key).ok()? {
        // Encrypted: a JSON string holding the ciphertext.
        Value::String(cipher) => secret.decrypt(&cipher)?,
        // Stored unencrypted (disablePrivateKeyEncryption): the JWK itself.
        jwk @ Value::Object(_) => jwk.to_string(),
        _ => return None,
    };
    let jwk: Value = serde_json::from_str(&jwk_text).ok()?;
    let d = B64URL.decode(jwk.get("d")?.as_str()?).ok()?;
    let key = SigningKey::from_bytes(&d.try_into().ok()?);
    Some(SigningKeyPair::new(
        stored.id.clone(),
        key,
        stored.expires_at,
    ))
}

/// The public JWK of a stored key, as `/jwks` lists it.
fn public_jwk(stored: &StoredKey) -> Option<Value> {
    let mut jwk: Map<String, Value> = serde_json::from_str(&stored.public_key).ok()?;
    jwk.insert(
        "alg".into(),
        Value::String(stored.alg.clone().unwrap_or_else(|| "EdDSA".into())),
    );
    jwk.insert("kid".into(), Value::String(stored.id.clone()));
    Some(Value::Object(jwk))
}

/// The verifying key of a published JWK.
fn decoding_key(jwk: &Value) -> Option<(String, Arc<DecodingKey>)> {
    let kid = jwk.get("kid")?.as_str()?;
    if jwk.get("crv")?.as_str()? != "Ed25519" {
        return None;
    }
    let key = DecodingKey::from_ed_components(jwk.get("x")?.as_str()?).ok()?;
    Some((kid.to_owned(), Arc::new(key)))
}

#[derive(Default)]
struct Loaded {
    current: Option<SigningKeyPair>,
    jwks: Value,
    verifying: HashMap<String, Arc<DecodingKey>>,
    loaded_at: Option<Timestamp>,
    /// The rows the keys above were built from (id and expiry of each), to skip opening and
    /// parsing every key again when the table has not changed.
    rows: Vec<(String, Option<Timestamp>)>,
}

/// The keys in use: the newest live key signs; every key within its grace period is published.
/// Cached in memory and reloaded every minute; a key is made when none can sign.
#[derive(Clone)]
pub struct KeyRing {
    store: Arc<dyn KeyStore>,
    secret: Secret,
    loaded: Arc<RwLock<Loaded>>,
    /// One reload at a time, so concurrent first requests make one key, not one each.
    reloading: Arc<tokio::sync::Mutex<()>>,
}

impl KeyRing {
    /// A key ring over the `jwks` table.
    pub fn new(store: Arc<dyn KeyStore>, secret: Secret) -> KeyRing {
        KeyRing {
            store,
            secret,
            loaded: Arc::new(RwLock::new(Loaded::default())),
            reloading: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    async fn fresh(&self) -> Result<(Option<SigningKeyPair>, Value), StoreError> {
        let t = now();
        {
            let l = self.loaded.read().await;
            if let (Some(at), Some(cur)) = (l.loaded_at, &l.current) {
                let live = cur.expires_at.is_none_or(|e| e > t);
                if (t - at).num_seconds() < RELOAD_SECONDS && live {
                    return Ok((Some(cur.clone()), l.jwks.clone()));
                }
            }
        }
        self.reload().await
    }

    /// Reads the table again (after a rotation, or when the cache is stale).
    pub async fn reload(&self) -> Result<(Option<SigningKeyPair>, Value), StoreError> {
        let _one_at_a_time = self.reloading.lock().await;
        let t = now();
        let mut stored = self.store.signing_keys().await?;
        let rows: Vec<(String, Option<Timestamp>)> = stored
            .iter()
            .map(|k| (k.id.clone(), k.expires_at))
            .collect();
        {
            let mut l = self.loaded.write().await;
            let live = l
                .current
                .as_ref()
                .is_some_and(|c| c.expires_at.is_none_or(|e| e > t));
            if l.loaded_at.is_some() && l.rows == rows && live {
                // Nothing changed: keep the opened keys.
                l.loaded_at = Some(t);
                return Ok((l.current.clone(), l.jwks.clone()));
            }
        }
        let usable = |k: &StoredKey| k.expires_at.is_none_or(|e| e > t);
        if !stored
            .iter()
            .any(|k| usable(k) && open(k, &self.secret).is_some())
        {
            let key = generate(&self.secret, t);
            self.store.insert_signing_key(&key).await?;
            stored.insert(0, key);
        }
        stored.sort_by_key(|k| std::cmp::Reverse(k.created_at));
        let current = stored
            .iter()
            .filter(|k| usable(k))
            .find_map(|k| open(k, &self.secret));
        let keys: Vec<Value> = stored
            .iter()
            .filter(|k| {
                k.expires_at
                    .is_none_or(|e| (e - t).num_seconds() > -GRACE_SECONDS)
            })
            .filter_map(public_jwk)
            .collect();
        let verifying = keys.iter().filter_map(decoding_key).collect();
        let jwks = json!({ "keys": keys });
        let mut l = self.loaded.write().await;
        *l = Loaded {
            current: current.clone(),
            jwks: jwks.clone(),
            verifying,
            loaded_at: Some(t),
            rows: stored
                .iter()
                .map(|k| (k.id.clone(), k.expires_at))
                .collect(),
        };
        Ok((current, jwks))
    }

    async fn verifying_key(&self, kid: &str) -> Result<Arc<DecodingKey>, JwtRefusal> {
        let recently = {
            let l = self.loaded.read().await;
            if let Some(key) = l.verifying.get(kid) {
                return Ok(key.clone());
            }
            l.loaded_at
                .is_some_and(|at| (now() - at).num_seconds() < UNKNOWN_KID_RELOAD_SECONDS)
        };
        if recently {
            return Err(JwtRefusal::UnknownKey);
        }
        self.reload().await?;
        let l = self.loaded.read().await;
        l.verifying.get(kid).cloned().ok_or(JwtRefusal::UnknownKey)
    }

    /// Verifies a JWT made by one of the published keys: EdDSA only, signature, `exp` (with a few
    /// seconds of leeway), `iss` and `aud`; `sub` must be present. Returns the claims.
    pub async fn verify(
        &self,
        token: &str,
        expected: &Expected,
    ) -> Result<Map<String, Value>, JwtRefusal> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| JwtRefusal::Malformed)?;
        if header.alg != Algorithm::EdDSA {
            return Err(JwtRefusal::Invalid(format!("algorithm {:?}", header.alg)));
        }
        let kid = header.kid.ok_or(JwtRefusal::UnknownKey)?;
        let key = self.verifying_key(&kid).await?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.leeway = LEEWAY_SECONDS;
        validation.set_issuer(&[&expected.issuer]);
        validation.set_audience(&[&expected.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| JwtRefusal::Invalid(e.to_string()))
    }

    /// The key that signs now (from memory while it is fresh and live: no copy of the JWKS).
    pub async fn current(&self) -> Result<SigningKeyPair, StoreError> {
        {
            let t = now();
            let l = self.loaded.read().await;
            if let (Some(at), Some(cur)) = (l.loaded_at, &l.current) {
                if (t - at).num_seconds() < RELOAD_SECONDS && cur.expires_at.is_none_or(|e| e > t) {
                    return Ok(cur.clone());
                }
            }
        }
        self.fresh().await?.0.ok_or_else(|| {
            StoreError::Backend("no signing key can be opened with this secret".into())
        })
    }

    /// The JWKS document (`{"keys":[…]}`). The table is read on each call (one small query), so a
    /// key another process just made is published at once, but the keys are opened and parsed
    /// again only when its rows changed.
    pub async fn jwks(&self) -> Result<Value, StoreError> {
        Ok(self.reload().await?.1)
    }

    /// Makes a new key that signs from now on; the old ones stay published.
    pub async fn rotate(&self) -> Result<String, StoreError> {
        let key = generate(&self.secret, now());
        self.store.insert_signing_key(&key).await?;
        self.reload().await?;
        Ok(key.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};

    const SECRET: &str = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz";

    #[test]
    fn a_generated_key_opens_with_its_secret_only() {
        let secret = Secret::new(SECRET);
        let stored = generate(&secret, now());
        assert!(
            stored.private_key.starts_with('"'),
            "the ciphertext is stored as a JSON string"
        );
        assert!(open(&stored, &secret).is_some());
        assert!(open(&stored, &Secret::new("another secret entirely")).is_none());
    }

    #[test]
    fn tokens_are_byte_identical_to_what_jsonwebtoken_signs() {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        let secret = Secret::new(SECRET);
        let stored = generate(&secret, now());
        let pair = open(&stored, &secret).unwrap();
        let der = pair.key.to_pkcs8_der().unwrap();
        let jose = jsonwebtoken::EncodingKey::from_ed_der(der.as_bytes());
        let mut header = jsonwebtoken::Header::new(Algorithm::EdDSA);
        header.typ = None;
        header.kid = Some(stored.id.clone());
        for claims in [
            json!({"sub": "u1", "exp": 1_900_000_000, "name": "Ada \"Byron\" ✓", "n": null}),
            json!({}),
        ] {
            // Ed25519 signatures are deterministic: the same key and input give the same token.
            assert_eq!(
                pair.sign(&claims).unwrap(),
                jsonwebtoken::encode(&header, &claims, &jose).unwrap()
            );
        }
    }

    #[test]
    fn tokens_verify_against_the_published_key() {
        let secret = Secret::new(SECRET);
        let stored = generate(&secret, now());
        let pair = open(&stored, &secret).unwrap();
        let jwt = pair.sign(&json!({"sub": "u1"})).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value = serde_json::from_slice(&B64URL.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header, json!({"alg": "EdDSA", "kid": stored.id}));
        let jwk = public_jwk(&stored).unwrap();
        let x: [u8; 32] = B64URL
            .decode(jwk["x"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let sig: [u8; 64] = B64URL.decode(parts[2]).unwrap().try_into().unwrap();
        let vk = VerifyingKey::from_bytes(&x).unwrap();
        assert!(vk
            .verify(
                format!("{}.{}", parts[0], parts[1]).as_bytes(),
                &Signature::from_bytes(&sig)
            )
            .is_ok());
        assert_eq!(jwk["kid"], json!(stored.id));
        assert_eq!(jwk["alg"], json!("EdDSA"));
    }

    #[test]
    fn unencrypted_private_keys_are_read_too() {
        let secret = Secret::new(SECRET);
        let mut stored = generate(&secret, now());
        let cipher: String = serde_json::from_str(&stored.private_key).unwrap();
        stored.private_key = secret.decrypt(&cipher).unwrap();
        assert!(open(&stored, &secret).is_some());
    }
}
