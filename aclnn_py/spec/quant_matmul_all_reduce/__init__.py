"""aclnnQuantMatmulAllReduce V1-V4: the rules of GetWorkspaceSize (:mod:`.rules`) and the
golden reference (:mod:`.golden`)."""
