"""Trains a small scikit-learn iris classifier, logs it to MLflow and registers it as a new version of a
registered model, optionally pointing an alias at it. Prints {"name", "version", "run_id", "artifact_uri"}
as JSON. Usage: python train_iris.py <tracking-uri> <model-name> [<alias>] [--experiment <name>]
"""
import json
import sys

import mlflow
from mlflow import MlflowClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

tracking_uri, name = sys.argv[1], sys.argv[2]
alias = sys.argv[3] if len(sys.argv) > 3 else None
mlflow.set_tracking_uri(tracking_uri)
mlflow.set_experiment(f"{name}-training")

X, y = load_iris(return_X_y=True, as_frame=True)
with mlflow.start_run() as run:
    model = LogisticRegression(max_iter=200).fit(X.values, y.values)
    mlflow.log_metric("accuracy", model.score(X.values, y.values))
    info = mlflow.sklearn.log_model(model, name="model", registered_model_name=name,
                                    input_example=X.values[:1])
client = MlflowClient()
version = info.registered_model_version
if alias:
    client.set_registered_model_alias(name, alias, str(version))
# MLflow 3 keeps a logged model's files under the experiment's models/<model id>/artifacts, not the run's.
artifact_uri = mlflow.get_logged_model(info.model_id).artifact_location
print(json.dumps({"name": name, "version": str(version), "run_id": run.info.run_id,
                  "artifact_uri": artifact_uri, "model_uri": info.model_uri}))
