//! Parsers for command-line values: addresses, OPEN amounts, gas prices in
//! gwei, block references, transaction hashes and private keys.
//!
//! Every value a user types is decoded here, once, into a type that cannot be
//! invalid (parse, don't validate). The parsers return messages that name
//! what was expected, and clap prefixes them with the offending value and the
//! argument's name, so the user learns which argument was wrong and why.

use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use ol_primitives::Amount;
use serde_json::{Value, json};
use std::{fmt, str::FromStr};

/// Decimals of a gwei-denominated price: 1 gwei is 10^9 wei.
const GWEI_DECIMALS: u32 = 9;

/// Parses an Ethereum address: `0x` and 40 hex digits. Mixed-case input must
/// carry a valid EIP-55 checksum, since a wrong one reveals a typo.
pub(crate) fn parse_address(text: &str) -> Result<Address, String> {
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"));
    let Some(digits) = digits else {
        return Err("not an address: expected 0x followed by 40 hex digits".to_string());
    };
    if digits.len() != 40 || !digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err(format!(
            "not an address: expected 0x followed by 40 hex digits, got {} characters after 0x",
            digits.len()
        ));
    }
    let has_upper = digits.bytes().any(|byte| byte.is_ascii_uppercase());
    let has_lower = digits.bytes().any(|byte| byte.is_ascii_lowercase());
    if has_upper && has_lower {
        return Address::parse_checksummed(text, None).map_err(|_| {
            "the address's mixed-case checksum (EIP-55) is wrong; check it for typos, \
             or write it all in lowercase"
                .to_string()
        });
    }
    Address::from_str(text).map_err(|error| format!("not an address: {error}"))
}

/// Parses an amount of OPEN ("1.5") exactly, without floating point.
pub(crate) fn parse_amount(text: &str) -> Result<Amount, String> {
    if text.trim_start().starts_with('-') {
        return Err("an amount cannot be negative".to_string());
    }
    Amount::parse_open(text).map_err(|error| error.to_string())
}

/// Parses a price in gwei ("1.5") into wei, exactly.
pub(crate) fn parse_gwei(text: &str) -> Result<u128, String> {
    if text.trim_start().starts_with('-') {
        return Err("a gas price cannot be negative".to_string());
    }
    let wei = Amount::parse_units(text, GWEI_DECIMALS)
        .map_err(|_| {
            format!("{text:?} is not a price in gwei (a decimal number with at most 9 decimals)")
        })?
        .wei();
    u128::try_from(wei).map_err(|_| format!("{text:?} gwei is too large a gas price"))
}

/// Parses a transaction hash: `0x` and 64 hex digits.
pub(crate) fn parse_transaction_hash(text: &str) -> Result<B256, String> {
    parse_hash(text)
        .ok_or_else(|| "not a transaction hash: expected 0x followed by 64 hex digits".to_string())
}

fn parse_hash(text: &str) -> Option<B256> {
    let digits = text.strip_prefix("0x")?;
    if digits.len() != 64 || !digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    B256::from_str(text).ok()
}

/// A named block, as JSON-RPC spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlockTag {
    /// The most recent sealed block.
    Latest,
    /// The block being built, with the mempool's transactions.
    Pending,
    /// The genesis block.
    Earliest,
    /// The most recent block that consensus considers safe.
    Safe,
    /// The most recent finalized block.
    Finalized,
}

impl BlockTag {
    fn as_str(self) -> &'static str {
        match self {
            Self::Latest => "latest",
            Self::Pending => "pending",
            Self::Earliest => "earliest",
            Self::Safe => "safe",
            Self::Finalized => "finalized",
        }
    }
}

/// Which block a command reads: a tag, a number or a hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlockReference {
    /// A named block (`latest`, `pending`, ...).
    Tag(BlockTag),
    /// A block number.
    Number(u64),
    /// A block hash.
    Hash(B256),
}

impl BlockReference {
    /// The most recent block.
    pub(crate) const LATEST: Self = Self::Tag(BlockTag::Latest);

    /// The JSON-RPC block parameter of state queries (`eth_getBalance` and
    /// friends); a hash becomes an EIP-1898 `{"blockHash": ...}` object.
    pub(crate) fn to_state_parameter(self) -> Value {
        match self {
            Self::Tag(tag) => json!(tag.as_str()),
            Self::Number(number) => json!(format!("{number:#x}")),
            Self::Hash(hash) => json!({ "blockHash": hash }),
        }
    }
}

impl FromStr for BlockReference {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let tag = match text {
            "latest" => Some(BlockTag::Latest),
            "pending" => Some(BlockTag::Pending),
            "earliest" => Some(BlockTag::Earliest),
            "safe" => Some(BlockTag::Safe),
            "finalized" => Some(BlockTag::Finalized),
            _ => None,
        };
        if let Some(tag) = tag {
            return Ok(Self::Tag(tag));
        }
        if let Some(hash) = parse_hash(text) {
            return Ok(Self::Hash(hash));
        }
        let number = match text.strip_prefix("0x") {
            Some(hex) if !hex.is_empty() && hex.len() <= 16 => u64::from_str_radix(hex, 16).ok(),
            Some(_) => None,
            None => text.parse::<u64>().ok(),
        };
        number.map(Self::Number).ok_or_else(|| {
            "not a block: expected a number, 0x-hex number, 0x-hash (64 hex digits), \
             latest, pending, earliest, safe or finalized"
                .to_string()
        })
    }
}

impl fmt::Display for BlockReference {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tag(tag) => formatter.write_str(tag.as_str()),
            Self::Number(number) => write!(formatter, "{number}"),
            Self::Hash(hash) => write!(formatter, "{hash}"),
        }
    }
}

/// Why a private key was refused. The key itself never appears in the
/// message: it is a secret, and error output ends up in logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PrivateKeyError {
    /// Wrong number of hex digits.
    #[error(
        "malformed private key: expected 64 hex digits (32 bytes), optionally after 0x, \
         got {0} characters"
    )]
    Length(usize),
    /// A character that is not a hex digit.
    #[error("malformed private key: it contains a character that is not a hex digit")]
    NotHex,
    /// Zero, or not below the secp256k1 group order.
    #[error("invalid private key: it is zero or not below the secp256k1 group order")]
    OutOfRange,
}

/// Parses a hex private key (surrounding whitespace, such as the newline of
/// a piped key, is ignored).
pub(crate) fn parse_private_key(text: &str) -> Result<PrivateKeySigner, PrivateKeyError> {
    let trimmed = text.trim();
    let digits =
        trimmed.strip_prefix("0x").or_else(|| trimmed.strip_prefix("0X")).unwrap_or(trimmed);
    if digits.len() != 64 {
        return Err(PrivateKeyError::Length(digits.chars().count()));
    }
    if !digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err(PrivateKeyError::NotHex);
    }
    let bytes = B256::from_str(digits).map_err(|_| PrivateKeyError::NotHex)?;
    PrivateKeySigner::from_bytes(&bytes).map_err(|_| PrivateKeyError::OutOfRange)
}

/// Wei in gwei, as exact decimal text ("1.5 gwei").
pub(crate) fn format_gwei(wei: u128) -> String {
    let scale = 10u128.pow(GWEI_DECIMALS);
    let (whole, fraction) = (wei / scale, wei % scale);
    if fraction == 0 {
        return format!("{whole} gwei");
    }
    let fraction = format!("{fraction:09}");
    format!("{whole}.{} gwei", fraction.trim_end_matches('0'))
}

/// Wei as OPEN ("1.5 OPEN").
pub(crate) fn format_open(wei: U256) -> String {
    Amount::from_wei(wei).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_in_lowercase_uppercase_and_checksummed_forms() {
        let expected = Address::from_str("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266").unwrap();
        for text in [
            "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
            "0xF39FD6E51AAD88F6F4CE6AB8827279CFFFB92266",
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        ] {
            assert_eq!(parse_address(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn malformed_addresses_are_refused_with_the_reason() {
        assert!(
            parse_address("f39fd6e51aad88f6f4ce6ab8827279cfffb92266").unwrap_err().contains("0x")
        );
        assert!(parse_address("0x1234").unwrap_err().contains("got 4 characters"));
        assert!(parse_address("0xg39fd6e51aad88f6f4ce6ab8827279cfffb92266").is_err());
        let bad_checksum = "0xF39fd6e51aad88F6F4ce6aB8827279cffFb92266";
        assert!(parse_address(bad_checksum).unwrap_err().contains("checksum"));
    }

    #[test]
    fn amounts_are_exact_and_bad_ones_say_why() {
        assert_eq!(parse_amount("1.5").unwrap().wei(), U256::from(1_500_000_000_000_000_000u128));
        assert_eq!(parse_amount("0.000000000000000001").unwrap().wei(), U256::from(1));
        assert!(parse_amount("1.2.3").unwrap_err().contains("not a decimal number"));
        assert!(parse_amount("-1").unwrap_err().contains("negative"));
        assert!(
            parse_amount("0.0000000000000000001").unwrap_err().contains("more than 18 decimals")
        );
        assert!(parse_amount("").unwrap_err().contains("empty"));
        assert!(parse_amount("1e18").unwrap_err().contains("not a decimal number"));
    }

    #[test]
    fn gwei_prices_parse_exactly() {
        assert_eq!(parse_gwei("1"), Ok(1_000_000_000));
        assert_eq!(parse_gwei("0.5"), Ok(500_000_000));
        assert_eq!(parse_gwei("0.000000001"), Ok(1));
        assert!(parse_gwei("0.0000000001").is_err());
        assert!(parse_gwei("-2").unwrap_err().contains("negative"));
        assert_eq!(format_gwei(1_500_000_000), "1.5 gwei");
        assert_eq!(format_gwei(7), "0.000000007 gwei");
        assert_eq!(format_gwei(2_000_000_000), "2 gwei");
    }

    #[test]
    fn block_references_parse_tags_numbers_and_hashes() {
        assert_eq!("latest".parse(), Ok(BlockReference::LATEST));
        assert_eq!("12".parse(), Ok(BlockReference::Number(12)));
        assert_eq!("0x1f".parse(), Ok(BlockReference::Number(31)));
        let hash = format!("0x{}", "ab".repeat(32));
        assert_eq!(hash.parse(), Ok(BlockReference::Hash(B256::from_str(&hash).unwrap())));
        assert!("newest".parse::<BlockReference>().is_err());
        assert!("-1".parse::<BlockReference>().is_err());
        assert!("0x".parse::<BlockReference>().is_err());
        assert_eq!(BlockReference::Number(255).to_state_parameter(), json!("0xff"));
    }

    #[test]
    fn private_keys_are_checked_without_echoing_them() {
        let key = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
        let signer = parse_private_key(&format!("{key}\n")).unwrap();
        assert_eq!(
            signer.address(),
            Address::from_str("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266").unwrap()
        );
        assert_eq!(parse_private_key("0x1234").unwrap_err(), PrivateKeyError::Length(4));
        assert_eq!(parse_private_key(&"zz".repeat(32)).unwrap_err(), PrivateKeyError::NotHex);
        assert_eq!(parse_private_key(&"00".repeat(32)).unwrap_err(), PrivateKeyError::OutOfRange);
        assert_eq!(parse_private_key(&"ff".repeat(32)).unwrap_err(), PrivateKeyError::OutOfRange);
        let message = parse_private_key(&format!("{}x", &key[..65])).unwrap_err().to_string();
        assert!(!message.contains(&key[2..20]));
    }
}
