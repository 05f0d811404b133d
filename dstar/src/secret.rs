//! The app's secret key: it signs the CSRF session cookie (and anything else dstar must sign), so
//! it must outlive a restart.
//!
//! [`AppKey::from_env`] finds it, in order:
//! 1. `DSTAR_SECRET` (32 bytes or more): the same key on every node of a multi-node deployment;
//! 2. a key file, generated once and then reused: `DSTAR_SECRET_FILE`, or `.dstar/secret` in the
//!    working directory. One process restarting keeps its tokens valid with no configuration;
//! 3. a random key, when the file can be neither read nor written (a read-only file system): tokens
//!    then end at restart, and a warning says so.

use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The key file's default path, relative to the working directory.
pub const DEFAULT_KEY_FILE: &str = ".dstar/secret";
const MIN_SECRET_LEN: usize = 32;

/// A 32-byte server key. Its `Debug` output never shows the key.
///
/// ```
/// let key = dstar::secret::AppKey::new(b"a secret key of at least 32 bytes!!");
/// assert!(format!("{key:?}").contains("AppKey"));
/// ```
#[derive(Clone)]
pub struct AppKey {
    bytes: [u8; 32],
    source: KeySource,
}

/// Where an [`AppKey`] came from, for the start-up listing.
///
/// ```
/// let key = dstar::secret::AppKey::random();
/// assert!(matches!(key.source(), dstar::secret::KeySource::Random { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySource {
    /// Given in code.
    Given,
    /// The `DSTAR_SECRET` environment variable (or the older `DSTAR_CSRF_KEY`).
    Env(&'static str),
    /// A key file.
    File {
        /// The file.
        path: PathBuf,
        /// Whether this process created it.
        created: bool,
    },
    /// Drawn at random: tokens end at restart.
    Random {
        /// Why no stable key was used.
        why: String,
    },
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Given => f.write_str("given in code"),
            KeySource::Env(var) => write!(f, "from {var}"),
            KeySource::File { path, created } => write!(
                f,
                "{} {} (survives restarts; set DSTAR_SECRET to share one key across nodes)",
                if *created {
                    "generated into"
                } else {
                    "kept in"
                },
                path.display()
            ),
            KeySource::Random { why } => write!(
                f,
                "RANDOM, so open pages get 403 after a restart ({why}); set DSTAR_SECRET"
            ),
        }
    }
}

impl fmt::Debug for AppKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppKey")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl AppKey {
    /// A key from secret bytes (hashed to 32 bytes). Keep them secret and stable.
    ///
    /// ```
    /// let key = dstar::secret::AppKey::new(std::env::var("MY_KEY").unwrap_or_default());
    /// ```
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        AppKey {
            bytes: Sha256::digest(secret.as_ref()).into(),
            source: KeySource::Given,
        }
    }

    /// A random key: it ends with the process (fine for tests).
    ///
    /// ```
    /// let key = dstar::secret::AppKey::random();
    /// ```
    pub fn random() -> Self {
        AppKey::random_because("asked for a random key".to_owned())
    }

    fn random_because(why: String) -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        AppKey {
            bytes,
            source: KeySource::Random { why },
        }
    }

    /// `DSTAR_SECRET`, else the key file (`DSTAR_SECRET_FILE` or `.dstar/secret`), created on
    /// first use; a random key (with a warning) only when neither works. See the module docs.
    ///
    /// # Panics
    ///
    /// At start-up, when `DSTAR_SECRET` is set but shorter than 32 bytes or not UTF-8: a secret
    /// that nodes silently ignored would give each its own key.
    ///
    /// ```no_run
    /// let key = dstar::secret::AppKey::from_env();
    /// println!("CSRF key {}", key.source());
    /// ```
    pub fn from_env() -> Self {
        for var in ["DSTAR_SECRET", "DSTAR_CSRF_KEY"] {
            match std::env::var(var) {
                Ok(secret) if secret.len() >= MIN_SECRET_LEN => {
                    let mut key = AppKey::new(secret);
                    key.source = KeySource::Env(var);
                    return key;
                }
                // a set but unusable secret is a deployment mistake: nodes would quietly sign with
                // keys of their own, so stop at start-up instead
                Ok(_) => panic!(
                    "dstar: {var} is set but shorter than {MIN_SECRET_LEN} bytes; use 32 or more random bytes (or unset it to use a key file)"
                ),
                Err(std::env::VarError::NotUnicode(_)) => {
                    panic!("dstar: {var} is set but not valid UTF-8")
                }
                Err(std::env::VarError::NotPresent) => {}
            }
        }
        let path = std::env::var_os("DSTAR_SECRET_FILE")
            .map_or_else(|| PathBuf::from(DEFAULT_KEY_FILE), PathBuf::from);
        AppKey::from_file(&path)
    }

    /// The key kept in `path`: read it, or generate it there (mode 0600) when the file does not
    /// exist. Falls back to a random key, with a warning, when the file is unusable.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("dstar-doc-key-{}", std::process::id()));
    /// let path = dir.join("secret");
    /// let first = dstar::secret::AppKey::from_file(&path);
    /// let again = dstar::secret::AppKey::from_file(&path);
    /// assert_eq!(first.bytes(), again.bytes());
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// ```
    pub fn from_file(path: &Path) -> Self {
        let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        match read_or_create(path) {
            Ok((bytes, created)) => {
                let source = KeySource::File {
                    path: shown,
                    created,
                };
                tracing::info!("dstar: app key {source}");
                AppKey { bytes, source }
            }
            Err(e) => {
                let why = format!("cannot use the key file {}: {e}", shown.display());
                crate::error::config_warning(&format!(
                    "{why}; using a random key, so tokens end at restart"
                ));
                AppKey::random_because(why)
            }
        }
    }

    /// The key's 32 bytes.
    ///
    /// ```
    /// assert_eq!(dstar::secret::AppKey::random().bytes().len(), 32);
    /// ```
    pub fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// Where the key came from.
    ///
    /// ```
    /// assert_eq!(dstar::secret::AppKey::new("k").source(), &dstar::secret::KeySource::Given);
    /// ```
    pub fn source(&self) -> &KeySource {
        &self.source
    }
}

/// Reads the key file, or creates it atomically (two processes starting at once agree on one key).
fn read_or_create(path: &Path) -> io::Result<([u8; 32], bool)> {
    match std::fs::read_to_string(path) {
        Ok(text) => return parse_key_file(&text).map(|k| (k, false)),
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        Err(_) => {}
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let tmp = path.with_extension(format!(
        "tmp-{}-{:x}",
        std::process::id(),
        rand::rng().next_u64()
    ));
    {
        let mut file = private_file(&tmp)?;
        writeln!(file, "{}", hex::encode(bytes))?;
        file.sync_all()?;
    }
    // a hard link never replaces an existing file: whoever links first wins, the other reads
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok((bytes, true)),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            parse_key_file(&std::fs::read_to_string(path)?).map(|k| (k, false))
        }
        Err(e) => Err(e),
    }
}

fn parse_key_file(text: &str) -> io::Result<[u8; 32]> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut bytes).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "expected 64 hex digits (delete the file to generate a new key)",
        )
    })?;
    Ok(bytes)
}

#[cfg(unix)]
fn private_file(path: &Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dstar-key-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn the_key_file_is_created_once_private_and_reused() {
        let dir = temp_dir("reuse");
        let path = dir.join("nested").join("secret");
        let first = AppKey::from_file(&path);
        assert!(matches!(
            first.source(),
            KeySource::File { created: true, .. }
        ));
        let again = AppKey::from_file(&path);
        assert!(matches!(
            again.source(),
            KeySource::File { created: false, .. }
        ));
        assert_eq!(first.bytes(), again.bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_broken_key_file_falls_back_to_a_random_key_and_says_why() {
        let dir = temp_dir("broken");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secret");
        std::fs::write(&path, "not hex").unwrap();
        let key = AppKey::from_file(&path);
        let KeySource::Random { why } = key.source() else {
            panic!("{:?}", key.source())
        };
        assert!(why.contains("64 hex digits"), "{why}");
        // the broken file is left for a person to look at, not overwritten
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not hex");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn concurrent_starts_agree_on_one_key() {
        let dir = temp_dir("race");
        let path = dir.join("secret");
        let keys: Vec<[u8; 32]> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| *AppKey::from_file(&path).bytes()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(keys.windows(2).all(|w| w[0] == w[1]));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
