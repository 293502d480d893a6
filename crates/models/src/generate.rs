//! Autoregressive generation with a KV cache.
//!
//! The prompt is run once; then each new token costs one position through the
//! cache. Greedy (argmax, lowest id on ties) when the temperature is 0,
//! otherwise temperature and nucleus (top-p) sampling from an RNG seeded by
//! the request, so the same request gives the same answer. Generation stops
//! at end-of-text, at `max_tokens`, or when the output ends with a stop
//! string; tokens that might begin a stop string are held back from the
//! callback until it is known they do not, so a stop string is never streamed.
//! When the context fills, the cache is rebuilt over the last half of it.
//! A prompt starts a new document: it is preceded by end-of-text, as every
//! training document is.

use candle_core::{DType, Tensor};
use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::Error;
use crate::model::{Adapter, KvCache, Model};
use crate::tokenizer::{END_OF_TEXT, VOCAB_SIZE};

/// How to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationParams {
    /// Most tokens to generate.
    pub max_tokens: usize,
    /// Softmax temperature; 0 means greedy.
    pub temperature: f64,
    /// Nucleus sampling mass in `(0, 1]`.
    pub top_p: f64,
    /// Seed of the sampling RNG.
    pub seed: u64,
    /// Strings that end generation (not included in the output).
    pub stop: Vec<String>,
}

impl Default for GenerationParams {
    fn default() -> Self {
        Self { max_tokens: 256, temperature: 0.0, top_p: 1.0, seed: 0, stop: Vec::new() }
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// The model produced end-of-text.
    EndOfText,
    /// `max_tokens` were produced.
    MaxTokens,
    /// The output ended with a stop string.
    Stop,
}

/// The result of a generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    /// Generated tokens (bytes), without end-of-text or the stop string.
    pub tokens: Vec<u32>,
    /// Why it ended.
    pub finish: FinishReason,
}

impl Generation {
    /// The generated text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        crate::tokenizer::decode(&self.tokens)
    }
}

pub(crate) fn check_tokens(tokens: &[u32], context: usize) -> Result<(), Error> {
    if tokens.is_empty() {
        return Err(Error::InvalidInput("no tokens given".into()));
    }
    if tokens.len() > context {
        return Err(Error::InvalidInput(format!(
            "{} tokens exceed the model's context of {context}",
            tokens.len()
        )));
    }
    if let Some(token) = tokens.iter().find(|&&token| token as usize >= VOCAB_SIZE) {
        return Err(Error::InvalidInput(format!(
            "token id {token} is outside the vocabulary (0..{VOCAB_SIZE})"
        )));
    }
    Ok(())
}

fn check_params(params: &GenerationParams) -> Result<(), Error> {
    if !params.temperature.is_finite() || params.temperature < 0.0 {
        return Err(Error::InvalidInput(format!(
            "temperature {} must be a non-negative number",
            params.temperature
        )));
    }
    if !(params.top_p > 0.0 && params.top_p <= 1.0) {
        return Err(Error::InvalidInput(format!("top_p {} must be in (0, 1]", params.top_p)));
    }
    Ok(())
}

/// Picks the next token from last-position logits.
fn sample(logits: &[f32], params: &GenerationParams, rng: &mut StdRng) -> u32 {
    let mut best = 0;
    for (index, &logit) in logits.iter().enumerate() {
        if logit > logits[best] {
            best = index;
        }
    }
    if params.temperature == 0.0 {
        return best as u32;
    }
    let max = f64::from(logits[best]);
    let mut candidates: Vec<(usize, f64)> = logits
        .iter()
        .enumerate()
        .map(|(index, &logit)| (index, ((f64::from(logit) - max) / params.temperature).exp()))
        .collect();
    let total: f64 = candidates.iter().map(|(_, weight)| weight).sum();
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut kept = 0.0;
    let mut nucleus = 0;
    for (_, weight) in &candidates {
        kept += weight;
        nucleus += 1;
        if kept >= params.top_p * total {
            break;
        }
    }
    let mut target = rng.random::<f64>() * kept;
    for &(index, weight) in &candidates[..nucleus] {
        if target < weight {
            return index as u32;
        }
        target -= weight;
    }
    // Rounding left `target` just above the nucleus mass: its last member.
    candidates[nucleus - 1].0 as u32
}

/// Streams generated tokens to a callback, holding back any suffix that may
/// still turn out to be the start of a stop string.
struct StopFilter<'a, F: FnMut(u32)> {
    stops: Vec<&'a [u8]>,
    tokens: Vec<u32>,
    emitted: usize,
    on_token: F,
}

impl<F: FnMut(u32)> StopFilter<'_, F> {
    /// Adds a byte token; true when the output now ends with a stop string.
    fn push(&mut self, token: u32) -> bool {
        self.tokens.push(token);
        let bytes: Vec<u8> = self.tokens[self.emitted..].iter().map(|&t| t as u8).collect();
        let generated = crate::tokenizer::decode_bytes(&self.tokens);
        if let Some(stop) = self.stops.iter().find(|stop| generated.ends_with(stop)) {
            self.tokens.truncate(self.tokens.len() - stop.len());
            self.emitted = self.emitted.min(self.tokens.len());
            return true;
        }
        let held = self
            .stops
            .iter()
            .flat_map(|stop| (1..stop.len()).rev().filter(|&k| bytes.ends_with(&stop[..k])).take(1))
            .max()
            .unwrap_or(0);
        self.flush(self.tokens.len() - held);
        false
    }

    fn flush(&mut self, upto: usize) {
        while self.emitted < upto {
            (self.on_token)(self.tokens[self.emitted]);
            self.emitted += 1;
        }
    }
}

impl Model {
    /// Generates after `prompt` (byte tokens or end-of-text), through
    /// `adapter` when given, calling `on_token` with each token as soon as it
    /// is certain to be part of the output.
    ///
    /// The prompt is the start of a new document: unless it already begins
    /// with [`END_OF_TEXT`], one is put before it, as before every training
    /// document, so the prompt's first byte sits where training put documents'
    /// first bytes. An empty prompt is end-of-text alone.
    pub fn generate(
        &self,
        adapter: Option<&Adapter>,
        prompt: &[u32],
        params: &GenerationParams,
        on_token: impl FnMut(u32),
    ) -> Result<Generation, Error> {
        let adapter = self.check_adapter(adapter)?;
        check_params(params)?;
        let context = self.config().context;
        // A generation starts a new document, as every training document
        // starts after an end-of-text.
        let mut history: Vec<u32> = Vec::with_capacity(prompt.len() + 1);
        if prompt.first() != Some(&END_OF_TEXT) {
            history.push(END_OF_TEXT);
        }
        history.extend_from_slice(prompt);
        check_tokens(&history, usize::MAX)?;
        if history.len() > context {
            // Only the last `context` tokens can be attended to.
            history.drain(..history.len() - context);
        }
        let mut filter = StopFilter {
            stops: params.stop.iter().map(|s| s.as_bytes()).filter(|s| !s.is_empty()).collect(),
            tokens: Vec::new(),
            emitted: 0,
            on_token,
        };
        let mut rng = StdRng::seed_from_u64(params.seed);
        let transformer = self.transformer();
        let step = |tokens: &[u32], cache: &mut KvCache| -> Result<Vec<f32>, Error> {
            let input = Tensor::new(tokens, self.device())?.unsqueeze(0)?;
            let logits = transformer.forward(&input, adapter, Some(cache))?;
            let last = logits.squeeze(0)?.get(tokens.len() - 1)?;
            Ok(last.to_dtype(DType::F32)?.to_vec1()?)
        };
        let mut cache = KvCache::new(self.config().layers);
        let mut finish = FinishReason::MaxTokens;
        if params.max_tokens > 0 {
            let mut logits = step(&history, &mut cache)?;
            let mut generated = 0;
            loop {
                let token = sample(&logits, params, &mut rng);
                if token == END_OF_TEXT {
                    finish = FinishReason::EndOfText;
                    break;
                }
                generated += 1;
                if filter.push(token) {
                    finish = FinishReason::Stop;
                    break;
                }
                if generated == params.max_tokens {
                    break;
                }
                history.push(token);
                if cache.len() == context {
                    // Slide: re-run the last half of the context into a fresh cache.
                    cache = KvCache::new(self.config().layers);
                    let keep = (context / 2).max(1);
                    logits = step(&history[history.len() - keep..], &mut cache)?;
                } else {
                    logits = step(&[token], &mut cache)?;
                }
            }
        }
        if finish != FinishReason::Stop {
            let all = filter.tokens.len();
            filter.flush(all);
        }
        tracing::debug!(tokens = filter.tokens.len(), ?finish, "generated");
        Ok(Generation { tokens: filter.tokens, finish })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_filter(stops: &[&str], text: &str) -> (Vec<u32>, bool, Vec<u32>) {
        let mut streamed = Vec::new();
        let mut filter = StopFilter {
            stops: stops.iter().map(|s| s.as_bytes()).collect(),
            tokens: Vec::new(),
            emitted: 0,
            on_token: |t| streamed.push(t),
        };
        let mut stopped = false;
        for byte in text.bytes() {
            if filter.push(u32::from(byte)) {
                stopped = true;
                break;
            }
        }
        if !stopped {
            let all = filter.tokens.len();
            filter.flush(all);
        }
        let tokens = filter.tokens;
        (tokens, stopped, streamed)
    }

    #[test]
    fn stop_string_is_never_streamed() {
        let (tokens, stopped, streamed) = run_filter(&["END"], "abcENxEND tail");
        assert!(stopped);
        assert_eq!(crate::tokenizer::decode(&tokens), "abcENx");
        assert_eq!(streamed, tokens);
        let (tokens, stopped, streamed) = run_filter(&["END"], "abcEN");
        assert!(!stopped);
        assert_eq!(crate::tokenizer::decode(&streamed), "abcEN");
        assert_eq!(streamed, tokens);
    }

    #[test]
    fn greedy_takes_first_maximum() {
        let mut rng = StdRng::seed_from_u64(1);
        let params = GenerationParams::default();
        assert_eq!(sample(&[0.0, 2.0, 2.0, 1.0], &params, &mut rng), 1);
    }

    #[test]
    fn tiny_top_p_is_greedy() {
        let mut rng = StdRng::seed_from_u64(1);
        let params = GenerationParams { temperature: 1.0, top_p: 0.01, ..Default::default() };
        for _ in 0..20 {
            assert_eq!(sample(&[0.0, 3.0, 2.0, 1.0], &params, &mut rng), 1);
        }
    }
}
