"""Trains a small scikit-learn iris classifier, logs it to MLflow with the iris data set as the run's input,
and registers it as a new version of a registered model, optionally pointing an alias at it and tagging the
model with the Darwin namespace it belongs to (the catalog registers it there). Prints {"name", "version",
"run_id", "experiment_id", "artifact_uri", "model_uri"} as JSON.
Usage: python train_iris.py <tracking-uri> <model-name> [<alias>] [--namespace <namespace>]
"""
import argparse
import json

import mlflow
from mlflow import MlflowClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

# Where the data set comes from, recorded with the run (nothing is downloaded: scikit-learn ships it).
IRIS_SOURCE = "https://archive.ics.uci.edu/dataset/53/iris"

parser = argparse.ArgumentParser()
parser.add_argument("tracking_uri")
parser.add_argument("name")
parser.add_argument("alias", nargs="?")
parser.add_argument("--namespace", help="tag darwin.namespace of the registered model")
args = parser.parse_args()

mlflow.set_tracking_uri(args.tracking_uri)
mlflow.set_experiment(f"{args.name}-training")

frame = load_iris(as_frame=True).frame
X, y = frame.drop(columns="target"), frame["target"]
with mlflow.start_run() as run:
    mlflow.log_input(mlflow.data.from_pandas(frame, source=IRIS_SOURCE, name="iris", targets="target"),
                     context="training")
    model = LogisticRegression(max_iter=200).fit(X.values, y.values)
    mlflow.log_metric("accuracy", model.score(X.values, y.values))
    info = mlflow.sklearn.log_model(model, name="model", registered_model_name=args.name,
                                    input_example=X.values[:1])
client = MlflowClient()
version = info.registered_model_version
if args.alias:
    client.set_registered_model_alias(args.name, args.alias, str(version))
if args.namespace:
    client.set_registered_model_tag(args.name, "darwin.namespace", args.namespace)
# MLflow 3 keeps a logged model's files under the experiment's models/<model id>/artifacts, not the run's.
artifact_uri = mlflow.get_logged_model(info.model_id).artifact_location
print(json.dumps({"name": args.name, "version": str(version), "run_id": run.info.run_id,
                  "experiment_id": run.info.experiment_id, "artifact_uri": artifact_uri,
                  "model_uri": info.model_uri}))
