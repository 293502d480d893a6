//! Double-sign evidence from the engine, put on chain.
//!
//! Malachite reports conflicting votes it saw in `Finalized`; that view is
//! local (each node may see different ones), so a node does not slash on
//! its own: it sends a `reportDoubleSign` transaction to the staking
//! contract, signed by its operator key, carrying both signed votes. The
//! ledger checks both ed25519 signatures against the registered consensus
//! key and slashes once per (validator, height), so any number of nodes
//! reporting the same double sign slash it once.

use crate::context::{OlContext, Vote};
use alloy_primitives::B256;
use alloy_signer_local::PrivateKeySigner;
use arc_malachitebft_app_channel::app::types::MisbehaviorEvidence;
use arc_malachitebft_app_channel::app::types::core::SignedMessage;
use ol_node::chain::Chain;
use ol_primitives::addresses;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Gas limit of a report (two ed25519 checks and a slash of every position).
const REPORT_GAS: u64 = 2_000_000;

/// Sends the engine's double-sign evidence to the staking contract.
pub struct EvidenceReporter {
    chain: Arc<Chain>,
    /// Signs the reports; `None`: evidence is only logged.
    operator: Option<PrivateKeySigner>,
    /// (validator address, height) already reported by this node.
    reported: Mutex<HashSet<([u8; 20], u64)>>,
}

impl EvidenceReporter {
    /// A reporter for `chain`, signing with `operator`.
    pub fn new(chain: Arc<Chain>, operator: Option<PrivateKeySigner>) -> Self {
        Self { chain, operator, reported: Mutex::default() }
    }

    /// Reports each double vote in `evidence` once.
    pub fn report(&self, evidence: &MisbehaviorEvidence<OlContext>) {
        for (address, doubles) in evidence.votes.iter() {
            for (a, b) in doubles {
                let height = a.message.height.0;
                tracing::warn!(validator = %address, height, round = %a.message.round, "validator double-signed");
                let fresh = {
                    let mut reported = self.reported.lock().expect("never poisoned");
                    if reported.len() >= 65_536 {
                        // Old reports are on chain by now; the ledger refuses repeats anyway.
                        reported.clear();
                    }
                    reported.insert((address.0, height))
                };
                if !fresh {
                    continue;
                }
                match self.submit(a, b) {
                    Ok(Some(hash)) => {
                        self.chain.metrics().evidence_reported.inc();
                        tracing::info!(validator = %address, height, tx = %hash, "double-sign evidence sent to staking")
                    }
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!(validator = %address, height, %error, "cannot send double-sign evidence")
                    }
                }
            }
        }
        for (address, proposals) in evidence.proposals.iter() {
            tracing::warn!(validator = %address, conflicting = proposals.len(), "validator proposed twice in a round (not slashable on chain yet)");
        }
    }

    fn submit(
        &self,
        a: &SignedMessage<OlContext, Vote>,
        b: &SignedMessage<OlContext, Vote>,
    ) -> Result<Option<B256>, String> {
        let Some(operator) = &self.operator else {
            tracing::warn!("no operator key configured: double-sign evidence is not reported");
            return Ok(None);
        };
        let members = self.members_key(&a.message)?;
        let input = ol_ledger::staking::report_double_sign_call(
            members,
            (a.message.content(), a.signature.0),
            (b.message.content(), b.signature.0),
        );
        self.chain
            .submit_signed_call(operator, addresses::STAKING, input, REPORT_GAS)
            .map(Some)
            .map_err(|e| e.to_string())
    }

    /// The consensus public key of the vote's signer, from staking's set.
    fn members_key(&self, vote: &Vote) -> Result<B256, String> {
        let snapshot = self.chain.snapshot().map_err(|e| e.to_string())?;
        let active = ol_ledger::staking::StakingReader::new(&snapshot)
            .active_validators()
            .map_err(|e| e.to_string())?;
        active
            .into_iter()
            .find(|m| {
                ol_primitives::consensus::consensus_address(&m.consensus_key.0)
                    == vote.validator_address.0
            })
            .map(|m| m.consensus_key)
            .ok_or_else(|| format!("validator {} is not in the active set", vote.validator_address))
    }
}
