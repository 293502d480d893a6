//! How one inference fee is divided: pure integer arithmetic.
//!
//! The platform fee goes to the treasury; the rest is split by the governed
//! basis points among the model owner, the provider, the stakers and the
//! data contributors; the contributors' part is divided pro rata to the
//! attribution weights of the contributors that earn and aggregated per
//! contributor. A contributor whose rewards in the datanet are cut
//! (reputation, [`crate::datanets::reputation`]) is left out of the weights
//! by the caller, so its share goes to the others in proportion to theirs;
//! when every attributed contributor is cut, the contributors' part goes
//! where an empty attribution's does (the datanet's owner). Every division
//! rounds down and the remainder (dust) goes to the treasury, so the parts
//! always add up to exactly the fee: nothing is created or lost.

use alloy_primitives::{Address, U256};
use std::collections::BTreeMap;

/// Basis points in a whole.
pub const BPS_WHOLE: u16 = 10_000;

/// The governed shares of a fee after the platform fee, in basis points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shares {
    /// The model's owner.
    pub owner: u16,
    /// The provider that served and settled the inference.
    pub provider: u16,
    /// The stakers (validators and delegators).
    pub stakers: u16,
    /// The data contributors, by attribution.
    pub contributors: u16,
}

impl Default for Shares {
    /// 20 % owner, 10 % provider, 20 % stakers, 50 % contributors.
    fn default() -> Self {
        Self { owner: 2_000, provider: 1_000, stakers: 2_000, contributors: 5_000 }
    }
}

impl Shares {
    /// True when the four shares make a whole.
    pub fn is_whole(&self) -> bool {
        u32::from(self.owner)
            + u32::from(self.provider)
            + u32::from(self.stakers)
            + u32::from(self.contributors)
            == u32::from(BPS_WHOLE)
    }
}

/// Where every wei of one fee goes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Split {
    /// The platform fee plus every rounding remainder.
    pub treasury: U256,
    /// The model owner's share.
    pub owner: U256,
    /// The provider's share.
    pub provider: U256,
    /// The stakers' share.
    pub stakers: U256,
    /// Each attributed contributor's share, one entry per contributor,
    /// ordered by address.
    pub contributors: Vec<(Address, U256)>,
    /// The contributors' share when no attributed contributor earns
    /// (nothing attributed, or every one cut): to the datanet's owner.
    pub unattributed: U256,
}

impl Split {
    /// The sum of every part: always the fee.
    pub fn total(&self) -> U256 {
        self.contributors.iter().fold(
            self.treasury + self.owner + self.provider + self.stakers + self.unattributed,
            |sum, (_, amount)| sum + amount,
        )
    }
}

fn part(amount: U256, bps: u16) -> U256 {
    amount * U256::from(bps) / U256::from(BPS_WHOLE)
}

/// Splits `fee`, of which `platform_fee` is the treasury's, by `shares`
/// among the parties, dividing the contributors' part among `weights`
/// (contributor, bps) in proportion to their bps. The weights are those of
/// the attributed contributors that earn: all of them sum to [`BPS_WHOLE`],
/// fewer (cut contributors left out) to less, none to zero. The caller has
/// checked that the attributed weights sum to [`BPS_WHOLE`], that none is
/// zero, that `shares` is whole and that `platform_fee <= fee`.
pub fn split(fee: U256, platform_fee: U256, shares: Shares, weights: &[(Address, u16)]) -> Split {
    let rest = fee.saturating_sub(platform_fee);
    let mut out = Split {
        owner: part(rest, shares.owner),
        provider: part(rest, shares.provider),
        stakers: part(rest, shares.stakers),
        ..Split::default()
    };
    let contributors_part = part(rest, shares.contributors);
    if weights.iter().all(|(_, bps)| *bps == 0) {
        out.unattributed = contributors_part;
    } else {
        out.contributors = divide(contributors_part, weights);
    }
    let distributed = out.total();
    // Never negative: every part rounds down and the shares sum to a whole.
    out.treasury = fee - distributed;
    out
}

/// Divides `amount` among `weights` (contributor, bps) in proportion to
/// their bps, each entry rounded down, aggregated per contributor (ordered
/// by address, zero amounts left out). What rounding leaves is the caller's.
/// Empty weights give nothing.
pub fn divide(amount: U256, weights: &[(Address, u16)]) -> Vec<(Address, U256)> {
    let total: u32 = weights.iter().map(|(_, bps)| u32::from(*bps)).sum();
    if total == 0 {
        return Vec::new();
    }
    let mut by_contributor: BTreeMap<Address, U256> = BTreeMap::new();
    for (contributor, bps) in weights {
        *by_contributor.entry(*contributor).or_default() +=
            amount * U256::from(*bps) / U256::from(total);
    }
    by_contributor.into_iter().filter(|(_, a)| !a.is_zero()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn defaults_on_a_round_fee() {
        let a = Address::repeat_byte(1);
        let b = Address::repeat_byte(2);
        let s = split(
            U256::from(1_100u64),
            U256::from(100u64),
            Shares::default(),
            &[(a, 7_500), (b, 2_500)],
        );
        assert_eq!(s.owner, U256::from(200u64));
        assert_eq!(s.provider, U256::from(100u64));
        assert_eq!(s.stakers, U256::from(200u64));
        assert_eq!(s.contributors, vec![(a, U256::from(375u64)), (b, U256::from(125u64))]);
        assert_eq!(s.treasury, U256::from(100u64));
        assert_eq!(s.total(), U256::from(1_100u64));
    }

    #[test]
    fn dust_goes_to_the_treasury_and_contributors_aggregate() {
        let a = Address::repeat_byte(1);
        let s = split(U256::from(7u64), U256::ZERO, Shares::default(), &[(a, 3_333), (a, 6_667)]);
        // 7 × 20 % = 1.4 → 1; 7 × 10 % → 0; contributors 3.5 → 3; a: 0.99 → 0 and 2.0 → 2.
        assert_eq!(s.contributors, vec![(a, U256::from(2u64))]);
        assert_eq!(s.total(), U256::from(7u64));
        assert_eq!(s.treasury, U256::from(7u64 - 1 - 1 - 2));
    }

    #[test]
    fn a_cut_contributors_share_goes_to_the_others_pro_rata() {
        let (a, b) = (Address::repeat_byte(1), Address::repeat_byte(2));
        // Attributed a 50 %, b 30 %, c 20 %; c is cut: a gets 5/8, b 3/8.
        let s = split(
            U256::from(1_100u64),
            U256::from(100u64),
            Shares::default(),
            &[(a, 5_000), (b, 3_000)],
        );
        assert_eq!(s.contributors, vec![(a, U256::from(312u64)), (b, U256::from(187u64))]);
        assert_eq!(s.unattributed, U256::ZERO);
        assert_eq!(s.treasury, U256::from(100u64 + 1), "500 × 5/8 and × 3/8 round down by 1");
        assert_eq!(s.total(), U256::from(1_100u64));
    }

    #[test]
    fn nothing_attributed_goes_to_the_fallback() {
        let s = split(U256::from(1_000u64), U256::ZERO, Shares::default(), &[]);
        assert_eq!(s.unattributed, U256::from(500u64));
        assert!(s.contributors.is_empty());
        assert_eq!(s.total(), U256::from(1_000u64));
    }

    fn weights() -> impl Strategy<Value = Vec<(Address, u16)>> {
        prop::collection::vec((0u8..6, 1u16..=10_000), 0..40).prop_map(|raw| {
            // Scale arbitrary weights into bps summing to exactly 10,000.
            let total: u32 = raw.iter().map(|(_, w)| u32::from(*w)).sum();
            if total == 0 {
                return Vec::new();
            }
            let mut bps: Vec<(Address, u16)> = raw
                .iter()
                .map(|(who, w)| {
                    (Address::repeat_byte(*who), (u32::from(*w) * 10_000 / total) as u16)
                })
                .collect();
            let given: u32 = bps.iter().map(|(_, b)| u32::from(*b)).sum();
            bps[0].1 += (10_000 - given) as u16;
            bps.retain(|(_, b)| *b > 0);
            bps
        })
    }

    fn shares() -> impl Strategy<Value = Shares> {
        (0u16..=10_000, 0u16..=10_000, 0u16..=10_000).prop_map(|(a, b, c)| {
            let mut cuts = [a, b, c];
            cuts.sort_unstable();
            Shares {
                owner: cuts[0],
                provider: cuts[1] - cuts[0],
                stakers: cuts[2] - cuts[1],
                contributors: 10_000 - cuts[2],
            }
        })
    }

    proptest! {
        #[test]
        fn nothing_is_created_or_lost(
            fee in any::<u128>(),
            platform_cut in 0u128..1_000,
            shares in shares(),
            weights in weights(),
        ) {
            let fee = U256::from(fee);
            let platform = fee * U256::from(platform_cut) / U256::from(1_000u64);
            let s = split(fee, platform, shares, &weights);
            prop_assert_eq!(s.total(), fee);
            prop_assert!(s.treasury >= platform);
            let rest = fee - platform;
            // Each contributor gets at most its weighted part of the contributors' share.
            let contributors_part = rest * U256::from(shares.contributors) / U256::from(10_000u64);
            for (who, amount) in &s.contributors {
                let bps: u32 =
                    weights.iter().filter(|(w, _)| w == who).map(|(_, b)| u32::from(*b)).sum();
                prop_assert!(*amount * U256::from(10_000u64) <= contributors_part * U256::from(bps));
            }
            // Dust is bounded by one wei per division.
            prop_assert!(s.treasury - platform <= U256::from(4 + weights.len()));
        }

        #[test]
        fn a_cut_moves_shares_to_the_others(
            fee in any::<u128>(),
            platform_cut in 0u128..1_000,
            shares in shares(),
            weights in weights(),
            cut_mask in any::<u8>(),
        ) {
            let fee = U256::from(fee);
            let platform = fee * U256::from(platform_cut) / U256::from(1_000u64);
            let is_cut = |who: &Address| cut_mask & (1 << (who.0[0] % 6)) != 0;
            let earning: Vec<(Address, u16)> =
                weights.iter().copied().filter(|(who, _)| !is_cut(who)).collect();
            let whole = split(fee, platform, shares, &weights);
            let s = split(fee, platform, shares, &earning);
            prop_assert_eq!(s.total(), fee);
            prop_assert!(s.treasury >= platform);
            // A cut contributor gets nothing; every other gets at least its uncut amount.
            prop_assert!(s.contributors.iter().all(|(who, _)| !is_cut(who)));
            for (who, amount) in &s.contributors {
                let before = whole.contributors.iter().find(|(w, _)| w == who).map(|(_, a)| *a);
                prop_assert!(*amount >= before.unwrap_or_default());
            }
            let contributors_part =
                (fee - platform) * U256::from(shares.contributors) / U256::from(10_000u64);
            let credited = s.contributors.iter().fold(s.unattributed, |sum, (_, a)| sum + a);
            if earning.is_empty() {
                // Nothing attributed, or every attributed contributor cut: the fallback.
                prop_assert_eq!(s.unattributed, contributors_part);
            } else {
                // The contributors' whole part, less one wei of dust per entry.
                prop_assert_eq!(s.unattributed, U256::ZERO);
                prop_assert!(credited <= contributors_part);
                prop_assert!(credited + U256::from(earning.len()) >= contributors_part);
            }
        }
    }
}
