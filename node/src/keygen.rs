//! `understudy keygen tsig NAME`: a fresh TSIG key in BIND's key-file
//! format, ready for named.conf, knot.conf (via `keymgr`-style import) or a
//! `[[tsig_key]] file = …` of this node.

use std::process::ExitCode;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use clap::{Args, Subcommand};
use ring::rand::{SecureRandom, SystemRandom};
use understudy_proto::Name;

use crate::config::TsigAlgorithm;

/// `understudy keygen …`
#[derive(Debug, Clone, Args)]
pub struct KeygenArgs {
    /// What to generate.
    #[command(subcommand)]
    pub command: KeygenCommand,
}

/// The kinds of key `keygen` makes.
#[derive(Debug, Clone, Subcommand)]
pub enum KeygenCommand {
    /// Print a TSIG key in BIND format.
    Tsig {
        /// The key's name, a domain name (e.g. xfr-key or xfr.example.com).
        name: String,
        /// HMAC algorithm: hmac-sha256, hmac-sha384, hmac-sha512 or hmac-sha1.
        #[arg(long, default_value = "hmac-sha256", value_parser = algorithm)]
        algorithm: TsigAlgorithm,
    },
}

fn algorithm(text: &str) -> Result<TsigAlgorithm, String> {
    text.parse()
        .map_err(|error: crate::config::AlgorithmError| error.to_string())
}

/// Why no key was made.
#[derive(Debug, thiserror::Error)]
pub enum KeygenError {
    /// The name is not a domain name.
    #[error("\"{name}\" is not a valid key name: {reason}")]
    BadName {
        /// The name given.
        name: String,
        /// Why it is not valid.
        reason: String,
    },
    /// The system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

/// Runs `keygen`, printing the key on stdout.
pub fn run(args: KeygenArgs) -> ExitCode {
    let KeygenCommand::Tsig { name, algorithm } = args.command;
    match tsig_key(&name, algorithm, &SystemRandom::new()) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// A key named `name` with a secret as long as the algorithm's output
/// (RFC 8945 §6 recommends no shorter), in BIND's format.
pub fn tsig_key(
    name: &str,
    algorithm: TsigAlgorithm,
    random: &dyn SecureRandom,
) -> Result<String, KeygenError> {
    let name = name.trim();
    let bad_name = |reason: String| KeygenError::BadName {
        name: name.to_owned(),
        reason,
    };
    if name.is_empty() || name == "." {
        return Err(bad_name("a key needs a name".into()));
    }
    if name.contains(['"', '\\', ' ', ';', '{', '}']) {
        return Err(bad_name("use letters, digits, '-', '_' and '.'".into()));
    }
    Name::from_ascii(name).map_err(|error| bad_name(error.to_string()))?;
    let mut secret = vec![0u8; algorithm.output_len()];
    random.fill(&mut secret).map_err(|_| KeygenError::Random)?;
    Ok(key_text(name, algorithm, &secret))
}

/// The BIND `key` statement for a key.
pub fn key_text(name: &str, algorithm: TsigAlgorithm, secret: &[u8]) -> String {
    format!(
        "key \"{name}\" {{\n\talgorithm {algorithm};\n\tsecret \"{}\";\n}};\n",
        BASE64.encode(secret)
    )
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;
    use crate::config::parse_key_file;
    use crate::store::scratch::Scratch;

    #[test]
    fn keygen_output_parses_back_with_the_key_file_parser() {
        let random = SystemRandom::new();
        for algorithm in TsigAlgorithm::ALL {
            let text = tsig_key("xfr-key", algorithm, &random).unwrap();
            let keys = parse_key_file(&text).unwrap();
            assert_eq!(keys.len(), 1, "{text}");
            assert_eq!(keys[0].name, "xfr-key");
            assert_eq!(keys[0].algorithm.parse(), Ok(algorithm));
            let secret = BASE64.decode(&keys[0].secret).unwrap();
            assert_eq!(secret.len(), algorithm.output_len());
        }
        let again = tsig_key("xfr-key", TsigAlgorithm::HmacSha256, &random).unwrap();
        let once = tsig_key("xfr-key", TsigAlgorithm::HmacSha256, &random).unwrap();
        assert_ne!(again, once, "every key has a fresh secret");
    }

    #[test]
    fn keygen_output_is_accepted_by_named_checkconf() {
        let dir = Scratch::new("keygen");
        let random = SystemRandom::new();
        let mut keys = String::new();
        for (index, algorithm) in TsigAlgorithm::ALL.into_iter().enumerate() {
            let name = format!("key{index}.example.");
            keys.push_str(&tsig_key(&name, algorithm, &random).unwrap());
        }
        let key_file = dir.write("keys.conf", &keys);
        let named_conf = dir.write(
            "named.conf",
            &format!("include \"{}\";\n", key_file.display()),
        );
        let output = Command::new("named-checkconf")
            .arg(&named_conf)
            .output()
            .expect("named-checkconf (package bind9-utils) must be installed");
        assert!(
            output.status.success(),
            "named-checkconf rejected:\n{keys}\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        // The same file also works as a [[tsig_key]] file of this node.
        let config = dir.write(
            "understudy.toml",
            "version = 1\n[node]\nid = \"n1\"\n[[tsig_key]]\nname = \"key3.example.\"\nfile = \"keys.conf\"\n",
        );
        let loaded = crate::config::Config::load(&config).unwrap();
        assert_eq!(loaded.tsig_keys[0].algorithm, TsigAlgorithm::HmacSha1);
    }

    #[test]
    fn keygen_rejects_names_that_would_break_the_file() {
        let random = SystemRandom::new();
        for name in ["", ".", "a\"b", "a b", "x;y", "a..b"] {
            assert!(
                matches!(
                    tsig_key(name, TsigAlgorithm::HmacSha256, &random),
                    Err(KeygenError::BadName { .. })
                ),
                "{name:?}"
            );
        }
    }

    #[test]
    fn keygen_arguments_default_to_hmac_sha256() {
        use clap::Parser;
        #[derive(Debug, Parser)]
        struct Cli {
            #[command(flatten)]
            keygen: KeygenArgs,
        }
        let cli = Cli::try_parse_from(["keygen", "tsig", "xfr-key"]).unwrap();
        let KeygenCommand::Tsig { name, algorithm } = cli.keygen.command;
        assert_eq!(
            (name.as_str(), algorithm),
            ("xfr-key", TsigAlgorithm::HmacSha256)
        );
        let md5 = Cli::try_parse_from(["keygen", "tsig", "k", "--algorithm", "hmac-md5"]);
        assert!(md5.unwrap_err().to_string().contains("not supported"));
    }
}
