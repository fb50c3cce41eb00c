//! BIND-format key files, as `tsig-keygen` and `understudy keygen tsig` write
//! them:
//!
//! ```text
//! key "xfr-key" {
//!     algorithm hmac-sha256;
//!     secret "base64…";
//! };
//! ```
//!
//! Comments in the three styles named.conf allows (`//`, `#`, `/* */`); a
//! file may hold several keys. Nothing but `key` statements is accepted.

/// One `key` statement, its values still as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyStatement {
    /// The key name as written (quotes removed).
    pub name: String,
    /// The `algorithm` value as written.
    pub algorithm: String,
    /// The `secret` value as written (base64).
    pub secret: String,
    /// Line of the `key` keyword, for messages.
    pub line: usize,
}

/// Why a key file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    /// A token other than the grammar allows at this point.
    #[error("line {line}: expected {expected}, found {found}")]
    Unexpected {
        /// Line of the offending token.
        line: usize,
        /// What the grammar wanted.
        expected: &'static str,
        /// What the file had.
        found: String,
    },
    /// A quoted string or a `/* */` comment that never closes.
    #[error("line {line}: unterminated {what}")]
    Unterminated {
        /// Line where it started.
        line: usize,
        /// "string" or "comment".
        what: &'static str,
    },
    /// A `key` statement without `algorithm` or `secret`, or with one twice.
    #[error("line {line}: key \"{name}\" {problem}")]
    Incomplete {
        /// Line of the `key` keyword.
        line: usize,
        /// The key's name.
        name: String,
        /// What is wrong with its clauses.
        problem: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Open,
    Close,
    Semicolon,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Word(word) => format!("`{word}`"),
            Token::Quoted(text) => format!("\"{text}\""),
            Token::Open => "`{`".into(),
            Token::Close => "`}`".into(),
            Token::Semicolon => "`;`".into(),
        }
    }
}

/// Reads every `key` statement of a BIND-format file.
pub fn parse_key_file(text: &str) -> Result<Vec<KeyStatement>, KeyFileError> {
    let mut tokens = Tokens {
        tokens: tokenize(text)?,
        next: 0,
    };
    let mut keys = Vec::new();
    while let Some((line, token)) = tokens.peek() {
        if token != &Token::Word("key".into()) {
            return Err(KeyFileError::Unexpected {
                line,
                expected: "a `key` statement",
                found: token.describe(),
            });
        }
        tokens.advance();
        keys.push(key_statement(&mut tokens, line)?);
    }
    Ok(keys)
}

fn key_statement(tokens: &mut Tokens, line: usize) -> Result<KeyStatement, KeyFileError> {
    let name = tokens.string("a key name")?;
    tokens.expect(&Token::Open, "`{`")?;
    let mut algorithm = None;
    let mut secret = None;
    loop {
        if tokens.peek().map(|(_, token)| token) == Some(&Token::Close) {
            tokens.advance();
            break;
        }
        let clause = tokens.word("`algorithm`, `secret` or `}`")?;
        let slot = match clause.as_str() {
            "algorithm" => &mut algorithm,
            "secret" => &mut secret,
            _ => {
                return Err(KeyFileError::Unexpected {
                    line: tokens.line(),
                    expected: "`algorithm`, `secret` or `}`",
                    found: format!("`{clause}`"),
                });
            }
        };
        let value = tokens.string("a value")?;
        tokens.expect(&Token::Semicolon, "`;`")?;
        if slot.replace(value).is_some() {
            return Err(incomplete(line, &name, "has a clause twice"));
        }
    }
    tokens.expect(&Token::Semicolon, "`;` after `}`")?;
    let algorithm = algorithm.ok_or_else(|| incomplete(line, &name, "has no algorithm"))?;
    let secret = secret.ok_or_else(|| incomplete(line, &name, "has no secret"))?;
    Ok(KeyStatement {
        name,
        algorithm,
        secret,
        line,
    })
}

fn incomplete(line: usize, name: &str, problem: &'static str) -> KeyFileError {
    KeyFileError::Incomplete {
        line,
        name: name.to_owned(),
        problem,
    }
}

struct Tokens {
    tokens: Vec<(usize, Token)>,
    next: usize,
}

impl Tokens {
    fn peek(&self) -> Option<(usize, &Token)> {
        self.tokens
            .get(self.next)
            .map(|(line, token)| (*line, token))
    }

    fn advance(&mut self) {
        self.next += 1;
    }

    /// Line of the last token taken, or of the end of the file.
    fn line(&self) -> usize {
        let index = self.next.saturating_sub(1);
        self.tokens.get(index).map_or(1, |(line, _)| *line)
    }

    fn take(&mut self, expected: &'static str) -> Result<(usize, Token), KeyFileError> {
        match self.tokens.get(self.next) {
            Some(found) => {
                self.next += 1;
                Ok(found.clone())
            }
            None => Err(KeyFileError::Unexpected {
                line: self.line(),
                expected,
                found: "the end of the file".into(),
            }),
        }
    }

    fn expect(&mut self, wanted: &Token, expected: &'static str) -> Result<(), KeyFileError> {
        let (line, token) = self.take(expected)?;
        if &token == wanted {
            Ok(())
        } else {
            Err(KeyFileError::Unexpected {
                line,
                expected,
                found: token.describe(),
            })
        }
    }

    fn word(&mut self, expected: &'static str) -> Result<String, KeyFileError> {
        match self.take(expected)? {
            (_, Token::Word(word)) => Ok(word),
            (line, token) => Err(KeyFileError::Unexpected {
                line,
                expected,
                found: token.describe(),
            }),
        }
    }

    /// A bare word or a quoted string.
    fn string(&mut self, expected: &'static str) -> Result<String, KeyFileError> {
        match self.take(expected)? {
            (_, Token::Word(text) | Token::Quoted(text)) => Ok(text),
            (line, token) => Err(KeyFileError::Unexpected {
                line,
                expected,
                found: token.describe(),
            }),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<(usize, Token)>, KeyFileError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '{' => tokens.push((line, Token::Open)),
            '}' => tokens.push((line, Token::Close)),
            ';' => tokens.push((line, Token::Semicolon)),
            '#' => skip_line(&mut chars, &mut line),
            '/' if chars.peek() == Some(&'/') => skip_line(&mut chars, &mut line),
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                skip_block_comment(&mut chars, &mut line)?;
            }
            '"' => {
                let start = line;
                let mut quoted = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => quoted.extend(chars.next()),
                        Some(c) => {
                            line += usize::from(c == '\n');
                            quoted.push(c);
                        }
                        None => return Err(unterminated(start, "string")),
                    }
                }
                tokens.push((start, Token::Quoted(quoted)));
            }
            c => {
                let mut word = String::from(c);
                while let Some(&next) = chars.peek() {
                    if next.is_whitespace() || matches!(next, '{' | '}' | ';' | '"' | '#') {
                        break;
                    }
                    word.push(next);
                    chars.next();
                }
                tokens.push((line, Token::Word(word)));
            }
        }
    }
    Ok(tokens)
}

fn skip_line(chars: &mut impl Iterator<Item = char>, line: &mut usize) {
    if chars.any(|c| c == '\n') {
        *line += 1;
    }
}

fn skip_block_comment(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    line: &mut usize,
) -> Result<(), KeyFileError> {
    let start = *line;
    while let Some(c) = chars.next() {
        match c {
            '\n' => *line += 1,
            '*' if chars.peek() == Some(&'/') => {
                chars.next();
                return Ok(());
            }
            _ => {}
        }
    }
    Err(unterminated(start, "comment"))
}

fn unterminated(line: usize, what: &'static str) -> KeyFileError {
    KeyFileError::Unterminated { line, what }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(name: &str, algorithm: &str, secret: &str, line: usize) -> KeyStatement {
        KeyStatement {
            name: name.into(),
            algorithm: algorithm.into(),
            secret: secret.into(),
            line,
        }
    }

    #[test]
    fn tsig_keygen_output_parses() {
        let text = "key \"xfr-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0\";\n};\n";
        assert_eq!(
            parse_key_file(text),
            Ok(vec![statement("xfr-key", "hmac-sha256", "c2VjcmV0", 1)])
        );
    }

    #[test]
    fn several_keys_with_every_comment_style() {
        let text = r#"
            # a shell comment
            key one { algorithm "hmac-sha1"; secret "AAAA"; }; // trailing
            /* a block
               comment over lines */
            key "two.example." {
                secret "BBBB"; algorithm hmac-sha512;
            };
        "#;
        assert_eq!(
            parse_key_file(text),
            Ok(vec![
                statement("one", "hmac-sha1", "AAAA", 3),
                statement("two.example.", "hmac-sha512", "BBBB", 6),
            ])
        );
    }

    #[test]
    fn empty_file_holds_no_keys() {
        assert_eq!(parse_key_file("// nothing here\n"), Ok(vec![]));
    }

    #[test]
    fn errors_name_the_line() {
        let missing_semicolon = "key k {\n algorithm hmac-sha256\n secret \"AA\";\n};";
        let error = parse_key_file(missing_semicolon).unwrap_err();
        assert!(
            matches!(error, KeyFileError::Unexpected { line: 3, .. }),
            "{error}"
        );

        let other_statement = "options { directory \"/tmp\"; };";
        assert!(matches!(
            parse_key_file(other_statement),
            Err(KeyFileError::Unexpected { line: 1, .. })
        ));

        let no_secret = "\n\nkey k { algorithm hmac-sha256; };";
        let error = parse_key_file(no_secret).unwrap_err();
        assert_eq!(error.to_string(), "line 3: key \"k\" has no secret");

        let twice = "key k { secret \"A\"; secret \"B\"; algorithm hmac-sha1; };";
        assert!(matches!(
            parse_key_file(twice),
            Err(KeyFileError::Incomplete { .. })
        ));
    }

    #[test]
    fn unterminated_string_and_comment_are_reported() {
        assert_eq!(
            parse_key_file("key k {\n secret \"AAA"),
            Err(KeyFileError::Unterminated {
                line: 2,
                what: "string"
            })
        );
        assert_eq!(
            parse_key_file("/* open"),
            Err(KeyFileError::Unterminated {
                line: 1,
                what: "comment"
            })
        );
        assert!(parse_key_file("key k { algorithm hmac-sha1; secret \"A\"; }").is_err());
    }
}
