//! OPEN amounts and basis points.
//!
//! [`Amount`] is OPEN in wei (10^-18 OPEN) with checked arithmetic only: the
//! ledger never wraps or saturates silently. Human input ("1.5") is parsed
//! exactly, without floating point.

use alloy_primitives::U256;
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// Decimals of the OPEN token.
pub const OPEN_DECIMALS: u32 = 18;

/// The fixed supply, in whole OPEN, created at genesis and never minted again.
pub const TOTAL_SUPPLY_OPEN: u64 = 1_000_000_000;

/// An amount of OPEN in wei.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Amount(pub U256);

/// Why a textual amount could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// The text is empty.
    #[error("amount is empty")]
    Empty,
    /// The text holds something other than digits and one decimal point.
    #[error("amount {0:?} is not a decimal number (digits with at most one '.')")]
    NotDecimal(String),
    /// More than 18 digits after the decimal point.
    #[error("amount {0:?} has more than 18 decimals; OPEN cannot be divided below 1 wei")]
    TooPrecise(String),
    /// The value does not fit in 256 bits.
    #[error("amount {0:?} is too large")]
    Overflow(String),
}

impl Amount {
    /// Zero OPEN.
    pub const ZERO: Self = Self(U256::ZERO);

    /// One OPEN (10^18 wei).
    pub const ONE_OPEN: Self = Self(U256::from_limbs([1_000_000_000_000_000_000, 0, 0, 0]));

    /// The total supply, 10^9 OPEN, in wei.
    pub fn total_supply() -> Self {
        Self::from_open(TOTAL_SUPPLY_OPEN)
    }

    /// An amount of wei.
    pub const fn from_wei(wei: U256) -> Self {
        Self(wei)
    }

    /// A whole number of OPEN.
    pub fn from_open(open: u64) -> Self {
        Self(U256::from(open) * U256::from(10u64).pow(U256::from(OPEN_DECIMALS)))
    }

    /// The amount in wei.
    pub const fn wei(self) -> U256 {
        self.0
    }

    /// `self + other`, `None` on overflow.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    /// `self - other`, `None` when `other > self`.
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.0.checked_sub(other.0).map(Self)
    }

    /// Parses a decimal amount of OPEN ("1", "1.5", "0.000000000000000001").
    pub fn parse_open(text: &str) -> Result<Self, AmountError> {
        Self::parse_units(text, OPEN_DECIMALS)
    }

    /// Parses a decimal number with `decimals` fractional digits into base units.
    pub fn parse_units(text: &str, decimals: u32) -> Result<Self, AmountError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(AmountError::Empty);
        }
        let (whole, fraction) = match trimmed.split_once('.') {
            Some((w, f)) => (w, f),
            None => (trimmed, ""),
        };
        let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty())
            || !digits_only(whole)
            || !digits_only(fraction)
        {
            return Err(AmountError::NotDecimal(text.to_string()));
        }
        if fraction.len() > decimals as usize {
            return Err(AmountError::TooPrecise(text.to_string()));
        }
        let overflow = || AmountError::Overflow(text.to_string());
        let scale = U256::from(10u64).pow(U256::from(decimals));
        let whole_value = if whole.is_empty() {
            U256::ZERO
        } else {
            U256::from_str_radix(whole, 10).map_err(|_| overflow())?
        };
        let mut fraction_value = U256::ZERO;
        if !fraction.is_empty() {
            let padded = format!("{fraction:0<width$}", width = decimals as usize);
            fraction_value = U256::from_str_radix(&padded, 10).map_err(|_| overflow())?;
        }
        whole_value
            .checked_mul(scale)
            .and_then(|w| w.checked_add(fraction_value))
            .map(Self)
            .ok_or_else(overflow)
    }

    /// The amount as decimal OPEN, without trailing zeros ("1.5", "1000").
    pub fn to_open_string(self) -> String {
        let scale = U256::from(10u64).pow(U256::from(OPEN_DECIMALS));
        let whole = self.0 / scale;
        let fraction = self.0 % scale;
        if fraction.is_zero() {
            return whole.to_string();
        }
        let fraction = format!("{fraction:0>18}");
        format!("{whole}.{}", fraction.trim_end_matches('0'))
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} OPEN", self.to_open_string())
    }
}

impl FromStr for Amount {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_open(s)
    }
}

impl From<U256> for Amount {
    fn from(value: U256) -> Self {
        Self(value)
    }
}

/// Basis points: a fraction in units of 1/10,000, always within 0..=10,000.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Bps(u16);

impl Bps {
    /// 100%.
    pub const MAX: Self = Self(10_000);

    /// `Some` when `value` is at most 10,000.
    pub const fn new(value: u16) -> Option<Self> {
        if value <= 10_000 { Some(Self(value)) } else { None }
    }

    /// The raw number of basis points.
    pub const fn get(self) -> u16 {
        self.0
    }

    /// `amount × self / 10,000`, rounded down.
    pub fn of(self, amount: Amount) -> Amount {
        // Cannot overflow in a meaningful range: amounts are bounded by the
        // supply (< 2^90), and 10,000 < 2^14.
        Amount(amount.0.saturating_mul(U256::from(self.0)) / U256::from(10_000u64))
    }
}

impl<'de> Deserialize<'de> for Bps {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = u16::deserialize(deserializer)?;
        Self::new(value).ok_or_else(|| {
            serde::de::Error::custom(format!("{value} basis points is more than 10000 (100%)"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_decimals() {
        assert_eq!(
            Amount::parse_open("1.5").unwrap().wei(),
            U256::from(1_500_000_000_000_000_000u128)
        );
        assert_eq!(Amount::parse_open("0.000000000000000001").unwrap().wei(), U256::from(1));
        assert_eq!(
            Amount::parse_open(".5").unwrap().wei(),
            U256::from(500_000_000_000_000_000u128)
        );
        assert_eq!(Amount::parse_open("7.").unwrap(), Amount::from_open(7));
        assert_eq!(Amount::total_supply().to_open_string(), "1000000000");
    }

    #[test]
    fn rejects_bad_text() {
        assert_eq!(Amount::parse_open(""), Err(AmountError::Empty));
        assert!(matches!(Amount::parse_open("1.2.3"), Err(AmountError::NotDecimal(_))));
        assert!(matches!(Amount::parse_open("-1"), Err(AmountError::NotDecimal(_))));
        assert!(matches!(Amount::parse_open("1e18"), Err(AmountError::NotDecimal(_))));
        assert!(matches!(Amount::parse_open("."), Err(AmountError::NotDecimal(_))));
        assert!(matches!(
            Amount::parse_open("0.0000000000000000001"),
            Err(AmountError::TooPrecise(_))
        ));
        assert!(matches!(Amount::parse_open(&"9".repeat(90)), Err(AmountError::Overflow(_))));
    }

    #[test]
    fn bps_bounds() {
        assert!(Bps::new(10_001).is_none());
        assert_eq!(Bps::new(2_500).unwrap().of(Amount::from_open(4)), Amount::from_open(1));
        assert_eq!(Bps::MAX.of(Amount::from_open(3)), Amount::from_open(3));
    }

    proptest! {
        #[test]
        fn format_parse_roundtrip(wei in any::<u128>()) {
            let amount = Amount(U256::from(wei));
            prop_assert_eq!(Amount::parse_open(&amount.to_open_string()).unwrap(), amount);
        }
    }
}
