//! Filters a client installs and polls (`eth_newFilter`,
//! `eth_newBlockFilter`, `eth_getFilterChanges`, `eth_getFilterLogs`,
//! `eth_uninstallFilter`) and the `eth_subscribe("logs")` stream, with geth's
//! semantics: a poll returns what happened since the previous one; a filter
//! not polled for [`FILTER_TIMEOUT`] is dropped; at most [`MAX_FILTERS`] are
//! installed at once. Logs are matched by the same code as `eth_getLogs`.
//!
//! Nothing is buffered per filter: a filter remembers the first block it has
//! not reported, and a poll reads the logs of the blocks sealed since from
//! storage, so an idle filter costs a few words of memory. When a dev chain
//! goes back (`evm_revert`), filters and log subscriptions ahead of the
//! restored head move back to it and report the blocks sealed anew; what
//! they reported of the abandoned blocks is not retracted (no `removed`
//! logs, as Hardhat Network sends none either).

use super::{
    RpcContext,
    errors::{internal, invalid_params, server_error},
    eth::{self, Positional},
};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::B256;
use alloy_rpc_types_eth::{Filter, FilterBlockOption, Log as RpcLog};
use jsonrpsee::{
    PendingSubscriptionSink, RpcModule, SubscriptionMessage,
    types::{ErrorObjectOwned, Params},
};
use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    ops::RangeInclusive,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

type RpcResult<T> = Result<T, ErrorObjectOwned>;

/// Most filters installed at once on a node (subscriptions not counted).
pub const MAX_FILTERS: usize = 1_000;

/// A filter not polled for this long is uninstalled, as geth does.
pub const FILTER_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// A filter's identifier: 128 unpredictable bits, so one client cannot
/// guess, poll or uninstall another's filter. Written as geth writes it:
/// `0x` and lowercase hex without leading zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FilterId(u128);

impl FilterId {
    /// Parses `0x` followed by 1 to 32 hex digits.
    pub fn parse(text: &str) -> Option<Self> {
        let digits = text.strip_prefix("0x")?;
        if digits.is_empty() || digits.len() > 32 {
            return None;
        }
        u128::from_str_radix(digits, 16).ok().map(Self)
    }
}

impl std::fmt::Display for FilterId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// What an installed filter reports.
#[derive(Debug, Clone)]
pub enum FilterKind {
    /// Logs matching the filter, from blocks sealed since the last poll.
    Logs(Box<Filter>),
    /// Hashes of blocks sealed since the last poll.
    Blocks,
}

/// Why a filter operation was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FilterError {
    /// Never installed, uninstalled, or expired (geth's wording).
    #[error("filter not found")]
    NotFound,
    /// The node already holds its maximum of filters.
    #[error(
        "too many filters installed: at most {max}; uninstall one with eth_uninstallFilter or let an unpolled one expire"
    )]
    TooMany {
        /// The limit.
        max: usize,
    },
}

#[derive(Debug)]
struct Installed {
    kind: FilterKind,
    /// The first block not yet reported.
    next_block: u64,
    last_poll: Instant,
}

/// The filters installed on a node, shared by its HTTP and WebSocket servers.
#[derive(Debug)]
pub struct Filters {
    installed: Mutex<HashMap<FilterId, Installed>>,
    /// Keyed hashing of a counter gives unpredictable identifiers without a
    /// random number generator.
    keys: RandomState,
    issued: AtomicU64,
    max: usize,
    timeout: Duration,
}

impl Default for Filters {
    fn default() -> Self {
        Self::new(MAX_FILTERS, FILTER_TIMEOUT)
    }
}

impl Filters {
    /// A store holding at most `max` filters, each dropped after `timeout`
    /// without a poll.
    pub fn new(max: usize, timeout: Duration) -> Self {
        Self {
            installed: Mutex::default(),
            keys: RandomState::new(),
            issued: AtomicU64::new(0),
            max,
            timeout,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<FilterId, Installed>> {
        // A panic while holding the lock cannot leave the map half-updated.
        self.installed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Installs a filter reporting blocks from `next_block` on.
    pub fn install(
        &self,
        kind: FilterKind,
        next_block: u64,
        now: Instant,
    ) -> Result<FilterId, FilterError> {
        let mut installed = self.lock();
        installed.retain(|_, f| now.saturating_duration_since(f.last_poll) < self.timeout);
        if installed.len() >= self.max {
            return Err(FilterError::TooMany { max: self.max });
        }
        let id = loop {
            let n = self.issued.fetch_add(1, Ordering::Relaxed);
            let high = self.keys.hash_one((n, 0u8));
            let low = self.keys.hash_one((n, 1u8));
            let id = FilterId((u128::from(high) << 64) | u128::from(low));
            if !installed.contains_key(&id) {
                break id;
            }
        };
        installed.insert(id, Installed { kind, next_block, last_poll: now });
        Ok(id)
    }

    /// Marks blocks up to `head` reported and returns the filter with the
    /// blocks it has not reported yet (empty when none were sealed).
    pub fn poll(
        &self,
        id: FilterId,
        head: u64,
        now: Instant,
    ) -> Result<(FilterKind, RangeInclusive<u64>), FilterError> {
        let mut installed = self.lock();
        let filter = self.live(&mut installed, id, now)?;
        let blocks = filter.next_block..=head;
        filter.next_block = filter.next_block.max(head.saturating_add(1));
        filter.last_poll = now;
        Ok((filter.kind.clone(), blocks))
    }

    /// After the chain went back to block `head` (`evm_revert`): filters
    /// ahead of it report again from the block after it, so the blocks
    /// sealed anew under the same numbers are not skipped.
    pub fn rewind(&self, head: u64) {
        for filter in self.lock().values_mut() {
            filter.next_block = filter.next_block.min(head.saturating_add(1));
        }
    }

    /// The filter's criteria, without counting as a poll (as geth).
    pub fn kind(&self, id: FilterId, now: Instant) -> Result<FilterKind, FilterError> {
        let mut installed = self.lock();
        Ok(self.live(&mut installed, id, now)?.kind.clone())
    }

    /// Removes a filter; `false` if there was none.
    pub fn uninstall(&self, id: FilterId) -> bool {
        self.lock().remove(&id).is_some()
    }

    fn live<'a>(
        &self,
        installed: &'a mut HashMap<FilterId, Installed>,
        id: FilterId,
        now: Instant,
    ) -> Result<&'a mut Installed, FilterError> {
        let expired = match installed.get(&id) {
            None => return Err(FilterError::NotFound),
            Some(f) => now.saturating_duration_since(f.last_poll) >= self.timeout,
        };
        if expired {
            installed.remove(&id);
            return Err(FilterError::NotFound);
        }
        installed.get_mut(&id).ok_or(FilterError::NotFound)
    }
}

impl From<FilterError> for ErrorObjectOwned {
    fn from(value: FilterError) -> Self {
        server_error(value.to_string())
    }
}

/// Registers the filter methods.
pub fn register(module: &mut RpcModule<RpcContext>) {
    let methods: &[(&'static str, super::eth::Method)] = &[
        ("eth_newFilter", eth_new_filter),
        ("eth_newBlockFilter", eth_new_block_filter),
        ("eth_getFilterChanges", eth_get_filter_changes),
        ("eth_getFilterLogs", eth_get_filter_logs),
        ("eth_uninstallFilter", eth_uninstall_filter),
    ];
    for (name, method) in methods {
        let method = *method;
        module
            .register_blocking_method(name, move |params, ctx, _| {
                ctx.chain.metrics().rpc_calls.inc();
                method(params, &ctx)
            })
            .expect("every method name is registered once");
    }
}

/// Refuses what a live filter cannot mean: a single block by hash.
fn live_filter(filter: Filter, method: &str) -> RpcResult<Filter> {
    if let FilterBlockOption::AtBlockHash(_) = filter.block_option {
        return Err(invalid_params(format!(
            "{method}: blockHash cannot be watched; use eth_getLogs for the logs of one block"
        )));
    }
    Ok(filter)
}

fn filter_id(p: &mut Positional<'_>) -> RpcResult<FilterId> {
    let text: String = p.required("filter id")?;
    FilterId::parse(&text).ok_or_else(|| {
        invalid_params(format!("invalid filter id {text:?}: expected 0x and 1 to 32 hex digits"))
    })
}

fn eth_new_filter(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_newFilter")?;
    let filter = live_filter(p.required("filter object")?, "eth_newFilter")?;
    p.finish()?;
    let next = ctx.chain.head().number() + 1;
    let id = ctx.filters.install(FilterKind::Logs(Box::new(filter)), next, Instant::now())?;
    Ok(serde_json::json!(id.to_string()))
}

fn eth_new_block_filter(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    Positional::new(params, "eth_newBlockFilter")?.finish()?;
    let next = ctx.chain.head().number() + 1;
    let id = ctx.filters.install(FilterKind::Blocks, next, Instant::now())?;
    Ok(serde_json::json!(id.to_string()))
}

fn eth_get_filter_changes(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_getFilterChanges")?;
    let id = filter_id(&mut p)?;
    p.finish()?;
    let head = ctx.chain.head().number();
    let (kind, blocks) = ctx.filters.poll(id, head, Instant::now())?;
    match kind {
        FilterKind::Blocks => {
            let hashes = blocks
                .map(|n| eth::header_by_number(ctx, n).map(|h| h.hash))
                .collect::<RpcResult<Vec<B256>>>()?;
            serde_json::to_value(hashes).map_err(internal)
        }
        FilterKind::Logs(filter) => {
            let logs = match bounded(&filter, blocks) {
                Some((from, to)) => eth::find_logs(ctx, &filter, from, to)?,
                None => Vec::new(),
            };
            serde_json::to_value(logs).map_err(internal)
        }
    }
}

/// `blocks` narrowed to the filter's numeric `fromBlock`/`toBlock` (tags
/// such as `latest` bound nothing, as in geth's live filters).
fn bounded(filter: &Filter, blocks: RangeInclusive<u64>) -> Option<(u64, u64)> {
    let number = |tag: Option<BlockNumberOrTag>| match tag {
        Some(BlockNumberOrTag::Number(n)) => Some(n),
        Some(BlockNumberOrTag::Earliest) => Some(0),
        _ => None,
    };
    let (mut from, mut to) = (*blocks.start(), *blocks.end());
    if let FilterBlockOption::Range { from_block, to_block } = filter.block_option {
        from = from.max(number(from_block).unwrap_or(0));
        to = to.min(number(to_block).unwrap_or(u64::MAX));
    }
    (from <= to).then_some((from, to))
}

fn eth_get_filter_logs(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_getFilterLogs")?;
    let id = filter_id(&mut p)?;
    p.finish()?;
    match ctx.filters.kind(id, Instant::now())? {
        FilterKind::Logs(filter) => {
            serde_json::to_value(eth::logs_in_range(ctx, &filter, "eth_getFilterLogs")?)
                .map_err(internal)
        }
        // geth keeps only log filters for this call.
        FilterKind::Blocks => Err(FilterError::NotFound.into()),
    }
}

fn eth_uninstall_filter(params: Params<'_>, ctx: &RpcContext) -> RpcResult<serde_json::Value> {
    let mut p = Positional::new(params, "eth_uninstallFilter")?;
    let id = filter_id(&mut p)?;
    p.finish()?;
    Ok(serde_json::json!(ctx.filters.uninstall(id)))
}

/// Parses the filter of `eth_subscribe("logs", filter?)`.
pub(super) fn subscription_filter(mut p: Positional<'_>) -> RpcResult<Filter> {
    let filter: Option<Filter> = p.optional("filter object")?;
    p.finish()?;
    live_filter(filter.unwrap_or_default(), "eth_subscribe")
}

/// Streams every log of each newly sealed block that matches `filter`, one
/// `eth_subscription` notification per log, as geth does.
pub(super) async fn stream_logs(
    pending: PendingSubscriptionSink,
    ctx: Arc<RpcContext>,
    filter: Filter,
) -> jsonrpsee::core::SubscriptionResult {
    use tokio::sync::broadcast::error::RecvError;
    let mut heads = ctx.chain.subscribe_heads();
    // Subscribed first: a block sealed in between is both in the head and
    // announced, and the announcement is skipped below.
    let start = ctx.chain.head();
    let mut next = start.number() + 1;
    let sink = pending.accept().await?;
    let filter = Arc::new(filter);
    loop {
        let head = tokio::select! {
            _ = sink.closed() => return Ok(()),
            head = heads.recv() => match head {
                Ok(header) => {
                    // Below the cursor and not the head at subscription:
                    // the chain went back (`evm_revert`) and sealed anew.
                    if header.number() < next && header.hash != start.hash {
                        next = header.number();
                    }
                    header.number()
                }
                // Missed announcements: the blocks are read from storage.
                Err(RecvError::Lagged(_)) => ctx.chain.head().number(),
                Err(RecvError::Closed) => return Ok(()),
            },
        };
        let Some((from, to)) = bounded(&filter, next..=head) else {
            next = next.max(head + 1);
            continue;
        };
        next = head + 1;
        let (reader, criteria) = (ctx.clone(), filter.clone());
        let logs = tokio::task::spawn_blocking(move || {
            eth::find_logs(&reader, &criteria, from, to).map_err(|e| e.message().to_owned())
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|logs| logs);
        let logs: Vec<RpcLog> = match logs {
            Ok(logs) => logs,
            Err(error) => {
                tracing::error!(%error, from, to, "reading logs for a subscription failed");
                return Ok(());
            }
        };
        for log in logs {
            let message =
                SubscriptionMessage::new(sink.method_name(), sink.subscription_id(), &log)?;
            if sink.send(message).await.is_err() {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_malformed_ids_are_refused() {
        let id = FilterId(0x00ab_cdef);
        assert_eq!(id.to_string(), "0xabcdef");
        assert_eq!(FilterId::parse("0xabcdef"), Some(id));
        for bad in ["", "0x", "abcdef", "0xzz", "0x1234567890abcdef1234567890abcdef0", "1"] {
            assert_eq!(FilterId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn polls_report_each_block_once() {
        let filters = Filters::default();
        let now = Instant::now();
        let id = filters.install(FilterKind::Blocks, 5, now).unwrap();
        assert!(filters.poll(id, 4, now).unwrap().1.is_empty(), "nothing sealed yet");
        assert_eq!(filters.poll(id, 7, now).unwrap().1, 5..=7);
        assert!(filters.poll(id, 7, now).unwrap().1.is_empty());
        assert_eq!(filters.poll(id, 8, now).unwrap().1, 8..=8);
        assert!(filters.uninstall(id));
        assert!(!filters.uninstall(id));
        assert_eq!(filters.poll(id, 8, now).unwrap_err(), FilterError::NotFound);
    }

    #[test]
    fn a_rewind_reports_the_resealed_blocks() {
        let filters = Filters::default();
        let now = Instant::now();
        let ahead = filters.install(FilterKind::Blocks, 1, now).unwrap();
        let behind = filters.install(FilterKind::Blocks, 1, now).unwrap();
        assert_eq!(filters.poll(ahead, 9, now).unwrap().1, 1..=9);
        assert_eq!(filters.poll(behind, 3, now).unwrap().1, 1..=3);
        // The chain goes back to block 5 and seals 6 and 7 anew.
        filters.rewind(5);
        assert_eq!(filters.poll(ahead, 7, now).unwrap().1, 6..=7);
        // A filter not past the restored head keeps its place.
        assert_eq!(filters.poll(behind, 7, now).unwrap().1, 4..=7);
    }

    #[test]
    fn unpolled_filters_expire_and_polling_keeps_them() {
        let filters = Filters::new(10, Duration::from_secs(60));
        let start = Instant::now();
        let polled = filters.install(FilterKind::Blocks, 1, start).unwrap();
        let idle = filters.install(FilterKind::Blocks, 1, start).unwrap();
        assert_ne!(polled, idle);
        filters.poll(polled, 1, start + Duration::from_secs(50)).unwrap();
        let later = start + Duration::from_secs(100);
        assert!(filters.kind(polled, later).is_ok());
        assert_eq!(filters.kind(idle, later).unwrap_err(), FilterError::NotFound);
    }

    #[test]
    fn the_number_of_filters_is_bounded() {
        let filters = Filters::new(3, Duration::from_secs(60));
        let start = Instant::now();
        let ids: Vec<_> =
            (0..3).map(|_| filters.install(FilterKind::Blocks, 1, start).unwrap()).collect();
        assert_eq!(
            filters.install(FilterKind::Blocks, 1, start).unwrap_err(),
            FilterError::TooMany { max: 3 }
        );
        assert!(filters.uninstall(ids[0]));
        filters.install(FilterKind::Blocks, 1, start).unwrap();
        // Expired filters make room.
        let later = start + Duration::from_secs(61);
        filters.install(FilterKind::Blocks, 1, later).unwrap();
    }
}
