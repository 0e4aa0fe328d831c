"""Policy review: rubrics, screening of policy texts, and the policy check."""
