"""Scores scripts/eval-style.sh's folds: echoscan's style verdicts (from the scans' attribute files
and summaries) and the scikit-learn peer's on the same splits. See scripts/eval-style.sh."""
import glob, json, os, sys
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import roc_auc_score

data, work = sys.argv[1], sys.argv[2]
MAIN = ("openai", "anthropic", "google")
LONG = 150

def read(path):
    return [json.loads(line) for line in open(path) if line.strip()]

refs = {os.path.basename(f)[:-6]: read(f) for f in sorted(glob.glob(data + "/reference/*.jsonl"))}
human_train = [r["text"] for f in sorted(glob.glob(work + "/human-train/*.jsonl")) for r in read(f)]
human_test = {os.path.basename(f): read(f) for f in sorted(glob.glob(work + "/human-test/*.jsonl"))}
words = lambda text: len(text.split())

# The peer: one TF-IDF vocabulary over every reference and the human training half (it sees the
# held-out model's words, an advantage echoscan's per-fold build does not have).
names = list(refs)
texts = [r["text"] for m in names for r in refs[m]]
owner = np.array([m for m in names for _ in refs[m]])
vendor = np.array([r["vendor"] for m in names for r in refs[m]])
vectorizer = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2, max_features=500_000, dtype=np.float32)
X = vectorizer.fit_transform(texts + human_train)
X_refs, X_human_train = X[:len(texts)], X[len(texts):]
human_test_texts = [r["text"] for rows in human_test.values() for r in rows]
X_human_test = vectorizer.transform(human_test_texts)
long_human = np.array([words(t) >= LONG for t in human_test_texts])

def style_spans(line):
    attributes = line["attributes"]
    vendors = {k[len("echoscan__style_"):]: v for k, v in attributes.items()
               if k.startswith("echoscan__style_") and k != "echoscan__style_model_written"}
    if not vendors or not next(iter(vendors.values())):
        return None, None
    probabilities = {name: spans[0][2] for name, spans in vendors.items()}
    written = attributes.get("echoscan__style_model_written") or [[0, 0, None]]
    return max(sorted(probabilities), key=lambda name: probabilities[name]), written[0][2]

rows, ours_pos, ours_neg, peer_pos, peer_neg, human_flagged = [], [], [], [], [], []
for fold in sorted(glob.glob(work + "/folds/*")):
    model = os.path.basename(fold)
    truth = refs[model][0]["vendor"]
    lines = read(f"{fold}/scan/attributes/echoscan/{model}.jsonl")
    held = refs[model]
    long_mask = np.array([words(r["text"]) >= LONG for r in held])
    ours = [style_spans(line) for line in lines]
    ours_vendor = [v for (v, _), keep in zip(ours, long_mask) if keep]
    ours_pos += [w for (_, w), keep in zip(ours, long_mask) if keep and w is not None]
    for name in human_test:
        for line, row in zip(read(f"{fold}/scan/attributes/echoscan/human__{name}"), human_test[name]):
            if words(row["text"]) >= LONG:
                ours_neg.append(style_spans(line)[1] or 0.0)
    summary = json.load(open(f"{fold}/scan/summary.json"))
    profiles = summary["style"]["shards"]
    mine = next(p for path, p in profiles.items() if path.endswith(f"/{model}.jsonl"))
    shard_vendor = max((s for s in mine["shares"] if s["style"] != "human"), key=lambda s: s["documents"])["style"]
    for path, profile in profiles.items():
        if "/human__" in path:
            human_flagged.append((profile["documents"], profile["documents"] - profile["shares"][0]["documents"]))
    # The peer on the same split.
    train = owner != model
    vendor_classifier = SGDClassifier(loss="log_loss", alpha=2e-6, max_iter=20, tol=None, random_state=0)
    vendor_classifier.fit(X_refs[train], vendor[train])
    held_rows = np.where(owner == model)[0]
    peer_vendor = vendor_classifier.predict(X_refs[held_rows[long_mask]]) if long_mask.any() else []
    votes = vendor_classifier.predict(X_refs[held_rows])
    peer_shard = max(sorted(set(votes)), key=lambda v: (votes == v).sum())
    from scipy.sparse import vstack
    written_classifier = SGDClassifier(loss="log_loss", alpha=2e-6, max_iter=20, tol=None, random_state=0, class_weight="balanced")
    written_classifier.fit(vstack([X_refs[train], X_human_train]), np.r_[np.ones(train.sum()), np.zeros(X_human_train.shape[0])])
    if long_mask.any():
        peer_pos += list(written_classifier.decision_function(X_refs[held_rows[long_mask]]))
    peer_neg += list(written_classifier.decision_function(X_human_test[long_human]))
    n = int(long_mask.sum())
    rows.append(dict(model=model, vendor=truth, outputs=len(held), long=n,
                     ours=(sum(v == truth for v in ours_vendor) / n) if n else None,
                     peer=(float(np.mean(peer_vendor == truth)) if n else None),
                     ours_correct=sum(v == truth for v in ours_vendor), peer_correct=int(np.sum(peer_vendor == truth)) if n else 0,
                     shard=shard_vendor, peer_shard=peer_shard))

print(f"| held-out model | vendor | outputs | ≥ {LONG} words | echoscan | peer | shard: echoscan | shard: peer |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    fmt = lambda x: "–" if x is None else f"{x:.3f}"
    print(f"| {r['model']} | {r['vendor']} | {r['outputs']} | {r['long']} | {fmt(r['ours'])} | {fmt(r['peer'])} | {r['shard']} | {r['peer_shard']} |")
main = [r for r in rows if r["vendor"] in MAIN]
n = sum(r["long"] for r in main)
if n:
    print(f"\noverall vendor accuracy ({'/'.join(MAIN)}, ≥ {LONG} words, {n} texts): echoscan "
          f"{sum(r['ours_correct'] for r in main) / n:.3f}, peer {sum(r['peer_correct'] for r in main) / n:.3f}")
big = [r for r in main if r["outputs"] >= 100]
print(f"shard-level vendor right (models with ≥ 100 outputs, {len(big)}): echoscan {sum(r['shard'] == r['vendor'] for r in big)}, "
      f"peer {sum(r['peer_shard'] == r['vendor'] for r in big)}")
if ours_pos and ours_neg:
    print(f"model-written vs human AUROC (≥ {LONG} words; {len(ours_pos)} model texts, {len(ours_neg)} human texts over the folds): "
          f"echoscan {roc_auc_score([1] * len(ours_pos) + [0] * len(ours_neg), ours_pos + ours_neg):.3f}, "
          f"peer {roc_auc_score([1] * len(peer_pos) + [0] * len(peer_neg), peer_pos + peer_neg):.3f}")
documents = sum(d for d, _ in human_flagged)
if documents:
    print(f"human texts called model-written at the default threshold (texts with a verdict): "
          f"{sum(f for _, f in human_flagged)}/{documents} = {sum(f for _, f in human_flagged) / documents:.4f}")
json.dump(rows, open(work + "/style-folds.json", "w"), indent=1)
