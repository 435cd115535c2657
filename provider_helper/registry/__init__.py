"""OCI distribution client: credentials, auth challenges, retries, the registry API, and ECR."""
