"""aclnnGroupedMatmulV5: the rules of GetWorkspaceSize (:mod:`.rules`) and the golden
reference (:mod:`.golden`)."""
