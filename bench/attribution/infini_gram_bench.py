#!/usr/bin/env python3
"""The infini-gram side of the attribution benchmark (run by ol-bench-attribution).

Builds an infini-gram index over the benchmark's documents.jsonl in byte mode
(`python -m infini_gram.indexing --token_dtype u8`, no tokenizer: each
document's UTF-8 bytes, separated by 0xff as infini-gram does), then opens it
with `InfiniGramEngine` and times, in this process, around each call:

* `count` on every count query (the public Python method, and the pybind
  binding `engine.engine.count` it wraps, which skips the argument checks);
* `creativity` on every text (infini-gram's per-position longest match: for
  each start i, the end of the longest corpus match starting at i);
* `attribute` on every text (OLMoTrace's span attribution).

Writes a JSON report: build time and peak memory (summed over the indexing
process tree, sampled every 10 ms, and the largest single process), bytes on
disk, per-call latencies in seconds, and the results for cross-checking.

    infini_gram_bench.py --corpus DIR --index DIR --workload FILE --out FILE
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time

# infini_gram.indexing imports transformers even when no tokenizer is used
# (byte mode never calls it). Rather than install transformers and its stack,
# the build runs with this stand-in on its path.
TRANSFORMERS_STAND_IN = '''
class _Logging:
    @staticmethod
    def set_verbosity(level):
        pass


class utils:
    logging = _Logging
'''


def tree_rss_bytes(root_pid):
    """Resident memory of a process and all its descendants, from /proc."""
    children, rss = {}, {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            fields = stat[stat.rindex(")") + 2:].split()
            pid, ppid = int(entry), int(fields[1])
            rss[pid] = int(fields[21]) * page
            children.setdefault(ppid, []).append(pid)
        except (OSError, ValueError, IndexError):
            continue
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def build(corpus_dir, index_dir, cpus, memory_gib):
    shutil.rmtree(index_dir, ignore_errors=True)
    os.makedirs(index_dir)
    stand_in = tempfile.mkdtemp(prefix="infini-gram-stand-in-")
    os.makedirs(os.path.join(stand_in, "transformers"))
    with open(os.path.join(stand_in, "transformers", "__init__.py"), "w") as f:
        f.write(TRANSFORMERS_STAND_IN)
    environment = dict(os.environ, PYTHONPATH=stand_in)
    command = [
        sys.executable, "-m", "infini_gram.indexing",
        "--data_dir", os.path.abspath(corpus_dir), "--save_dir", os.path.abspath(index_dir),
        "--token_dtype", "u8", "--cpus", str(cpus), "--mem", str(memory_gib), "--ulimit", "4096",
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    peak = [0]

    def sample():
        while process.poll() is None:
            peak[0] = max(peak[0], tree_rss_bytes(process.pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = process.stdout.read()
    process.wait()
    seconds = time.perf_counter() - started
    sampler.join()
    shutil.rmtree(stand_in, ignore_errors=True)
    if process.returncode != 0:
        sys.exit(f"infini_gram.indexing failed ({process.returncode}):\n{output[-4000:]}")
    suffix_array_seconds = None
    for line in output.splitlines():
        if line.startswith("Step 2 (build_sa): Done. Took"):
            suffix_array_seconds = float(line.split("Took")[1].split()[0])
    largest_process = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    files = {name: os.path.getsize(os.path.join(index_dir, name)) for name in sorted(os.listdir(index_dir))}
    return {
        "seconds": seconds,
        "suffix_array_seconds": suffix_array_seconds,
        "peak_rss_bytes": peak[0],
        "peak_rss_largest_process_bytes": largest_process,
        "files": files,
        "disk_bytes": sum(files.values()),
    }


def suffix_lengths(ends):
    """From creativity's rs (for each start i, the end of the longest corpus
    match starting at i) to, for each position j, the length of the longest
    corpus match ending at j (the form ol-attribution's longest_matches
    gives). text[i..=j] occurs exactly when rs[i] > j, so that length is
    j + 1 - (the least i <= j with rs[i] > j), or 0."""
    lengths, start = [], 0
    for j in range(len(ends)):
        while start <= j and ends[start] <= j:
            start += 1
        lengths.append(j + 1 - start)
    return lengths


ROUNDS = 3  # as ol-bench-attribution's measure::ROUNDS


def timed(function, argument_lists):
    """Calls function(arguments) for each: one untimed pass, then ROUNDS timed
    passes. Returns each input's fastest time in seconds and its result."""
    results = [function(arguments) for arguments in argument_lists]
    seconds = [float("inf")] * len(argument_lists)
    for _ in range(ROUNDS):
        for i, arguments in enumerate(argument_lists):
            started = time.perf_counter()
            function(arguments)
            seconds[i] = min(seconds[i], time.perf_counter() - started)
    return seconds, results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", required=True, help="folder holding documents.jsonl")
    parser.add_argument("--index", required=True, help="where to build the index (emptied first)")
    parser.add_argument("--workload", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--cpus", type=int, default=os.cpu_count())
    parser.add_argument("--memory-gib", type=int, default=8)
    arguments = parser.parse_args()

    with open(arguments.workload) as f:
        workload = json.load(f)
    print("infini-gram: building the index", file=sys.stderr, flush=True)
    built = build(arguments.corpus, arguments.index, arguments.cpus, arguments.memory_gib)
    print(f"infini-gram: built in {built['seconds']:.1f} s", file=sys.stderr, flush=True)

    from infini_gram.engine import InfiniGramEngine

    # Byte tokens: 0xff separates documents, so the vocabulary is 0..=254
    # (the U8 engine takes vocab_size as a u8).
    opening = time.perf_counter()
    engine = InfiniGramEngine(index_dir=arguments.index, eos_token_id=254, vocab_size=255,
                              version=4, token_dtype="u8")
    built["open_seconds"] = time.perf_counter() - opening
    # Byte tokens: the UTF-8 bytes of each query and text.
    queries = [list(q.encode("utf-8")) for q in workload["count_queries"]]
    texts = [list(t.encode("utf-8")) for t in workload["texts"]]
    parameters = workload["attribution"]

    count_seconds, counts = timed(lambda q: engine.count(q)["count"], queries)
    binding_seconds, _ = timed(lambda q: engine.engine.count(input_ids=q).count, queries)
    creativity_seconds, ends = timed(lambda t: engine.creativity(t)["rs"], texts)

    def attribute(text):
        response = engine.attribute(text, [], parameters["min_len"], parameters["max_cnt"], False)
        return [[s["l"], s["r"], s["count"]] for s in response["spans"]]

    attribute_seconds, spans = timed(attribute, texts)
    report = {
        "system": "infini-gram",
        "build": built,
        "tokens": engine.engine.get_tok_cnt(s=0),
        "documents": engine.get_total_doc_cnt(),
        "count_seconds": count_seconds,
        "count_binding_seconds": binding_seconds,
        "counts": counts,
        "longest_match_seconds": creativity_seconds,
        "longest_matches": [suffix_lengths(row) for row in ends],
        "attribute_seconds": attribute_seconds,
        "spans": spans,
    }
    with open(arguments.out, "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main()
