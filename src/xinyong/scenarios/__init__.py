"""信易+: the registry of incentive scenarios (信易批, 信易租, 信易游 …), their public catalogue, and the
eligibility check that answers yes or no with the rule, never the record."""
