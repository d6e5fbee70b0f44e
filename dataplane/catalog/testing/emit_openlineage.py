"""Emits one run of a job (START, then COMPLETE) with the OpenLineage Python client, as a pipeline would.

Usage: python emit_openlineage.py URL ENDPOINT TOKEN SPEC_JSON
SPEC_JSON: {"job": {"namespace", "name"}, "inputs": [{"namespace", "name"}], "outputs": [...], "runId": uuid}
Prints the run id.
"""

import json
import sys
from datetime import datetime, timezone

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import schema_dataset
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

url, endpoint, token, spec_json = sys.argv[1:5]
spec = json.loads(spec_json)

transport = HttpTransport(
    HttpConfig(url=url, endpoint=endpoint, auth=ApiKeyTokenProvider({"apiKey": token}), retry={"total": 0})
)
client = OpenLineageClient(transport=transport)

schema = schema_dataset.SchemaDatasetFacet(
    fields=[schema_dataset.SchemaDatasetFacetFields(name="price", type="double", description="Sale price")]
)
inputs = [InputDataset(namespace=d["namespace"], name=d["name"]) for d in spec["inputs"]]
outputs = [OutputDataset(namespace=d["namespace"], name=d["name"], facets={"schema": schema}) for d in spec["outputs"]]
job = Job(namespace=spec["job"]["namespace"], name=spec["job"]["name"])
run = Run(runId=spec["runId"])
producer = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"

for state in (RunState.START, RunState.COMPLETE):
    client.emit(
        RunEvent(
            eventType=state,
            eventTime=datetime.now(timezone.utc).isoformat(),
            run=run,
            job=job,
            producer=producer,
            inputs=inputs,
            outputs=outputs,
        )
    )
print(spec["runId"])
