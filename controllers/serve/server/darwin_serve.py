"""Darwin's Ray Serve application: loads $DARWIN_MODEL_URI with mlflow.pyfunc and answers the same bodies as
the predict server of an api Serve: {"features": [[...]]}, {"input": [[...]]}, or MLflow's inputs,
instances, dataframe_split and dataframe_records. Mounted into the RayService's pods from a ConfigMap and
named in its serveConfigV2 as darwin_serve:app.
"""
import os

import mlflow.pyfunc
import numpy as np
import pandas as pd
from ray import serve
from starlette.requests import Request
from starlette.responses import JSONResponse

ACCEPTED = "features, input, inputs, instances, dataframe_split, dataframe_records"


def to_model_input(body):
    if not isinstance(body, dict):
        raise ValueError(f"the body must be a JSON object with one of: {ACCEPTED}")
    for key in ("features", "input", "inputs", "instances"):
        if key in body:
            return np.asarray(body[key])
    if "dataframe_split" in body:
        return pd.DataFrame(**body["dataframe_split"])
    if "dataframe_records" in body:
        return pd.DataFrame.from_records(body["dataframe_records"])
    raise ValueError(f"the body must have one of: {ACCEPTED}")


@serve.deployment
class Model:
    def __init__(self):
        self.model = mlflow.pyfunc.load_model(os.environ["DARWIN_MODEL_URI"])

    async def __call__(self, request: Request):
        try:
            data = to_model_input(await request.json())
        except ValueError as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        predictions = self.model.predict(data)
        if hasattr(predictions, "tolist"):
            predictions = predictions.tolist()
        return {"predictions": predictions}


app = Model.bind()
