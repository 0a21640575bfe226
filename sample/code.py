import math


def attention(q, k, v):
    """Scaled dot-product attention for one query over a list of keys and values."""
    scores = [sum(a * b for a, b in zip(q, key)) / math.sqrt(len(q)) for key in k]
    top = max(scores)
    weights = [math.exp(s - top) for s in scores]
    total = sum(weights)
    return [sum(w / total * value[i] for w, value in zip(weights, v)) for i in range(len(v[0]))]
