"""The AWS control plane (boto3): ECR repositories and registry tokens. The registry protocol is in registry/."""
