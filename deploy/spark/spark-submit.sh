#!/usr/bin/env bash
# spark-submit straight to Kubernetes (no operator): a Spark 4 job shuffling through Sluice. The image must hold
# the client jar (Dockerfile.spark); run from a host whose kubeconfig reaches the cluster.
#   deploy/spark/spark-submit.sh https://ABCDEF.gr7.us-east-1.eks.amazonaws.com
set -euo pipefail
API_SERVER="${1:?usage: spark-submit.sh https://KUBERNETES-API-SERVER}"
SPARK_VERSION="4.1.4"
SLUICE_VERSION="0.2.0"
IMAGE="111122223333.dkr.ecr.us-east-1.amazonaws.com/spark-sluice:${SPARK_VERSION}-${SLUICE_VERSION}"

"${SPARK_HOME:?set SPARK_HOME to a Spark ${SPARK_VERSION} installation}/bin/spark-submit" \
  --master "k8s://${API_SERVER}" \
  --deploy-mode cluster \
  --name daily-aggregation \
  --jars local:///opt/sluice/jars/sluice-spark-4_2.13-0.2.0.jar \
  --conf spark.kubernetes.namespace=spark-jobs \
  --conf spark.kubernetes.authenticate.driver.serviceAccountName=spark \
  --conf "spark.kubernetes.container.image=${IMAGE}" \
  --conf spark.kubernetes.driver.secrets.sluice-client=/etc/sluice/client \
  --conf spark.shuffle.manager=org.apache.spark.shuffle.sluice.SluiceShuffleManager \
  --conf spark.sluice.master.address=sluice-master.sluice.svc.cluster.local:9097 \
  --conf spark.sluice.auth.clientSecretFile=/etc/sluice/client/client-secret \
  --conf spark.dynamicAllocation.enabled=true \
  --conf spark.dynamicAllocation.shuffleTracking.enabled=false \
  --conf spark.shuffle.service.enabled=false \
  --conf spark.dynamicAllocation.maxExecutors=20 \
  --conf spark.executor.cores=2 \
  --conf spark.executor.memory=4g \
  local:///opt/jobs/daily_aggregation.py
