"""Fits a logistic regression on scikit-learn's bundled iris data set and pickles it to argv[1]."""
import pickle
import sys

from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

data = load_iris()
model = LogisticRegression(max_iter=500).fit(data.data, data.target)
with open(sys.argv[1], "wb") as out:
    pickle.dump({"model": model, "classes": [str(name) for name in data.target_names]}, out)
print(f"trained on {len(data.target)} rows, accuracy {model.score(data.data, data.target):.3f}")
