"""Checks of the CANN ABI headers in include/.

The headers are the single source of truth of the CANN ABI for this project:
the cffi binding strips them with a simple pure-Python text stripper, the mock
runtime is built from them, and C/C++ programs compile against them with
``-I include``. These tests keep them

* compilable as C99/C11 (pedantic) and as C++11/C++17, each header on its own
  and all together;
* equal to the ABI facts (enum values, constants, struct layouts,
  HcclCommConfigInit defaults, key prototypes, op::fp16_t rounding), checked
  by compiling and running a small C++ program;
* inside the strict subset of C that the stripper understands
  (test_strict_conventions).

The textual checks read the headers through the binding's own stripper
(:mod:`aclnn_py.semantics.headers`: ``strip``, ``declarations``, ``parse``), the code
that makes the cffi declarations; the prototypes it yields are compared with
CANN's published prototypes (the headers and operator documents each header of
include/ names), restated here independently.

Build outputs go to pytest's tmp_path. The compile tests are skipped, with a
reason, only when gcc/g++ is not on PATH.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from aclnn_py.semantics import headers, operator_headers
from aclnn_py.semantics.headers import _strip_comments  # the binding's comment stripper, for the lint

ROOT = Path(__file__).resolve().parents[2]
INCLUDE = ROOT / "include"

# Every header, in dependency order (a stripper concatenating them in this
# order never meets a name before its definition).
HEADERS = [
    "acl/error_codes/rt_error_codes.h",
    "acl/acl_base.h",
    "acl/acl_rt.h",
    "acl/acl.h",
    "aclnn/acl_meta.h",
    "aclnn/aclnn_base.h",
    "aclnn/opdev/op_errno.h",
    "aclnn/opdev/fp16_t.h",
    "aclnnop/aclnn_util.h",
    "aclnnop/aclnn_quant_matmul_all_reduce.h",
    "aclnnop/aclnn_quant_matmul_all_reduce_v2.h",
    "aclnnop/aclnn_quant_matmul_all_reduce_v3.h",
    "aclnnop/aclnn_quant_matmul_all_reduce_v4.h",
    "aclnnop/aclnn_quant_matmul_all_reduce_v5.h",
    "aclnnop/aclnn_matmul_all_reduce.h",
    "aclnnop/aclnn_matmul_all_reduce_v2.h",
    "aclnnop/aclnn_matmul_all_reduce_v3.h",
    "aclnnop/aclnn_weight_quant_matmul_all_reduce.h",
    "aclnnop/aclnn_weight_quant_matmul_all_reduce_v2.h",
    "aclnnop/aclnn_grouped_matmul.h",
    "aclnnop/aclnn_grouped_matmul_v2.h",
    "aclnnop/aclnn_grouped_matmul_v3.h",
    "aclnnop/aclnn_grouped_matmul_v4.h",
    "aclnnop/aclnn_grouped_matmul_v5.h",
    "aclnnop/aclnn_grouped_matmul_weight_nz.h",
    "aclnnop/aclnn_trans_matmul_weight.h",
    "aclnnop/aclnn_trans_quant_param_v2.h",
    "aclnnop/aclnn_npu_format_cast.h",
    "aclnnop/aclnn_weight_quant_batch_matmul_v2.h",
    "aclnnop/aclnn_dynamic_quant.h",
    "aclnnop/aclnn_mm.h",
    "aclnnop/aclnn_matmul.h",
    "aclnnop/aclnn_cast.h",
    "aclnnop/aclnn_permute.h",
    "hccl/hccl_types.h",
    "hccl/hccl_comm.h",
    "hccl/hccl.h",
]
CXX_ONLY_HEADERS = {"aclnn/opdev/fp16_t.h"}
C_HEADERS = [h for h in HEADERS if h not in CXX_ONLY_HEADERS]
#: The operator headers, written in CANN's style (ACLNN_API, visibility attributes): read by the
#: tolerant reader (aclnn_py.semantics.operator_headers), not by the strict stripper.
OPERATOR_HEADERS = [h for h in HEADERS if h.startswith("aclnnop/")]
#: The runtime headers, in the strict style the stripper reads.
STRICT_HEADERS = [h for h in HEADERS if h not in OPERATOR_HEADERS]

GCC = shutil.which("gcc")
GXX = shutil.which("g++")
needs_gcc = pytest.mark.skipif(GCC is None, reason="gcc not found on PATH (needed to compile the C checks)")
needs_gxx = pytest.mark.skipif(GXX is None, reason="g++ not found on PATH (needed to compile the C++ checks)")

C_FLAGS = ["-Wall", "-Wextra", "-Werror", "-pedantic"]
CXX_FLAGS = ["-Wall", "-Wextra", "-Werror", "-pedantic"]

# Every enum member and integer macro of the headers, with its ABI value (CANN's
# hicann/runtime include/external/acl/acl_base_rt.h, acl_rt.h (also the ACL API
# version), error_codes/rt_error_codes.h; hicann/opbase include/nnopbase/opdev/op_errno.h;
# hicann/hcomm include/hccl/hccl_types.h), keyed by the
# header that must define it. Values > 1e8 are written in hex.
EXPECTED_CONSTANTS = {
    "acl/acl.h": {
        "ACL_MAJOR_VERSION": 1, "ACL_MINOR_VERSION": 17, "ACL_PATCH_VERSION": 0,
        "ACL_PKG_NAME_CANN": 0, "ACL_PKG_NAME_RUNTIME": 1, "ACL_PKG_NAME_COMPILER": 2,
        "ACL_PKG_NAME_HCCL": 3, "ACL_PKG_NAME_TOOLKIT": 4, "ACL_PKG_NAME_OPP": 5,
        "ACL_PKG_NAME_OPP_KERNEL": 6, "ACL_PKG_NAME_DRIVER": 7,
    },
    "acl/acl_base.h": {
        "ACL_SUCCESS": 0, "ACL_ERROR_NONE": 0, "ACL_RT_SUCCESS": 0,
        "ACL_ERROR_INVALID_PARAM": 100000, "ACL_ERROR_UNINITIALIZE": 100001,
        "ACL_ERROR_REPEAT_INITIALIZE": 100002, "ACL_ERROR_INVALID_FILE": 100003,
        "ACL_ERROR_WRITE_FILE": 100004, "ACL_ERROR_INVALID_FILE_SIZE": 100005,
        "ACL_ERROR_PARSE_FILE": 100006, "ACL_ERROR_FILE_MISSING_ATTR": 100007,
        "ACL_ERROR_FILE_ATTR_INVALID": 100008, "ACL_ERROR_INVALID_DUMP_CONFIG": 100009,
        "ACL_ERROR_INVALID_PROFILING_CONFIG": 100010, "ACL_ERROR_INVALID_MODEL_ID": 100011,
        "ACL_ERROR_DESERIALIZE_MODEL": 100012, "ACL_ERROR_PARSE_MODEL": 100013,
        "ACL_ERROR_READ_MODEL_FAILURE": 100014, "ACL_ERROR_MODEL_SIZE_INVALID": 100015,
        "ACL_ERROR_MODEL_MISSING_ATTR": 100016, "ACL_ERROR_MODEL_INPUT_NOT_MATCH": 100017,
        "ACL_ERROR_MODEL_OUTPUT_NOT_MATCH": 100018, "ACL_ERROR_MODEL_NOT_DYNAMIC": 100019,
        "ACL_ERROR_OP_TYPE_NOT_MATCH": 100020, "ACL_ERROR_OP_INPUT_NOT_MATCH": 100021,
        "ACL_ERROR_OP_OUTPUT_NOT_MATCH": 100022, "ACL_ERROR_OP_ATTR_NOT_MATCH": 100023,
        "ACL_ERROR_OP_NOT_FOUND": 100024, "ACL_ERROR_OP_LOAD_FAILED": 100025,
        "ACL_ERROR_UNSUPPORTED_DATA_TYPE": 100026, "ACL_ERROR_FORMAT_NOT_MATCH": 100027,
        "ACL_ERROR_BIN_SELECTOR_NOT_REGISTERED": 100028, "ACL_ERROR_KERNEL_NOT_FOUND": 100029,
        "ACL_ERROR_BIN_SELECTOR_ALREADY_REGISTERED": 100030,
        "ACL_ERROR_KERNEL_ALREADY_REGISTERED": 100031, "ACL_ERROR_INVALID_QUEUE_ID": 100032,
        "ACL_ERROR_REPEAT_SUBSCRIBE": 100033, "ACL_ERROR_STREAM_NOT_SUBSCRIBE": 100034,
        "ACL_ERROR_THREAD_NOT_SUBSCRIBE": 100035, "ACL_ERROR_WAIT_CALLBACK_TIMEOUT": 100036,
        "ACL_ERROR_REPEAT_FINALIZE": 100037, "ACL_ERROR_NOT_STATIC_AIPP": 100038,
        "ACL_ERROR_COMPILING_STUB_MODE": 100039, "ACL_ERROR_GROUP_NOT_SET": 100040,
        "ACL_ERROR_GROUP_NOT_CREATE": 100041, "ACL_ERROR_PROF_ALREADY_RUN": 100042,
        "ACL_ERROR_PROF_NOT_RUN": 100043, "ACL_ERROR_DUMP_ALREADY_RUN": 100044,
        "ACL_ERROR_DUMP_NOT_RUN": 100045, "ACL_ERROR_PROF_REPEAT_SUBSCRIBE": 148046,
        "ACL_ERROR_PROF_API_CONFLICT": 148047, "ACL_ERROR_INVALID_MAX_OPQUEUE_NUM_CONFIG": 148048,
        "ACL_ERROR_INVALID_OPP_PATH": 148049, "ACL_ERROR_OP_UNSUPPORTED_DYNAMIC": 148050,
        "ACL_ERROR_RELATIVE_RESOURCE_NOT_CLEARED": 148051, "ACL_ERROR_UNSUPPORTED_JPEG": 148052,
        "ACL_ERROR_INVALID_BUNDLE_MODEL_ID": 148053, "ACL_ERROR_BAD_ALLOC": 200000,
        "ACL_ERROR_API_NOT_SUPPORT": 200001, "ACL_ERROR_INVALID_DEVICE": 200002,
        "ACL_ERROR_MEMORY_ADDRESS_UNALIGNED": 200003, "ACL_ERROR_RESOURCE_NOT_MATCH": 200004,
        "ACL_ERROR_INVALID_RESOURCE_HANDLE": 200005, "ACL_ERROR_FEATURE_UNSUPPORTED": 200006,
        "ACL_ERROR_PROF_MODULES_UNSUPPORTED": 200007, "ACL_ERROR_STORAGE_OVER_LIMIT": 300000,
        "ACL_ERROR_INTERNAL_ERROR": 500000, "ACL_ERROR_FAILURE": 500001,
        "ACL_ERROR_GE_FAILURE": 500002, "ACL_ERROR_RT_FAILURE": 500003,
        "ACL_ERROR_DRV_FAILURE": 500004, "ACL_ERROR_PROFILING_FAILURE": 500005,
        "ACL_DT_UNDEFINED": -1, "ACL_FLOAT": 0, "ACL_FLOAT16": 1, "ACL_INT8": 2, "ACL_INT32": 3,
        "ACL_UINT8": 4, "ACL_INT16": 6, "ACL_UINT1": 30, "ACL_UINT16": 7, "ACL_UINT32": 8,
        "ACL_INT64": 9, "ACL_UINT64": 10, "ACL_DOUBLE": 11, "ACL_BOOL": 12, "ACL_STRING": 13,
        "ACL_COMPLEX64": 16, "ACL_COMPLEX128": 17, "ACL_BF16": 27, "ACL_INT4": 29,
        "ACL_COMPLEX32": 33, "ACL_HIFLOAT8": 34, "ACL_FLOAT8_E5M2": 35, "ACL_FLOAT8_E4M3FN": 36,
        "ACL_FLOAT8_E8M0": 37, "ACL_FLOAT6_E3M2": 38, "ACL_FLOAT6_E2M3": 39, "ACL_FLOAT4_E2M1": 40,
        "ACL_FLOAT4_E1M2": 41, "ACL_FORMAT_UNDEFINED": -1, "ACL_FORMAT_NC": 35,
        "ACL_FORMAT_NCHW": 0, "ACL_FORMAT_NHWC": 1, "ACL_FORMAT_ND": 2, "ACL_FORMAT_NC1HWC0": 3,
        "ACL_FORMAT_FRACTAL_Z": 4, "ACL_FORMAT_NC1HWC0_C04": 12, "ACL_FORMAT_HWCN": 16,
        "ACL_FORMAT_NDHWC": 27, "ACL_FORMAT_FRACTAL_NZ": 29, "ACL_FORMAT_NCDHW": 30,
        "ACL_FORMAT_NDC1HWC0": 32, "ACL_FRACTAL_Z_3D": 33, "ACL_FORMAT_NCL": 47,
        "ACL_FORMAT_FRACTAL_NZ_C0_16": 50, "ACL_FORMAT_FRACTAL_NZ_C0_32": 51,
        "ACL_FORMAT_FRACTAL_NZ_C0_2": 52, "ACL_FORMAT_FRACTAL_NZ_C0_4": 53,
        "ACL_FORMAT_FRACTAL_NZ_C0_8": 54,
    },
    "acl/acl_rt.h": {
        "ACL_CONTINUE_ON_FAILURE": 0, "ACL_STOP_ON_FAILURE": 1, "ACL_MEM_MALLOC_HUGE_FIRST": 0,
        "ACL_MEM_MALLOC_HUGE_ONLY": 1, "ACL_MEM_MALLOC_NORMAL_ONLY": 2,
        "ACL_MEM_MALLOC_HUGE_FIRST_P2P": 3, "ACL_MEM_MALLOC_HUGE_ONLY_P2P": 4,
        "ACL_MEM_MALLOC_NORMAL_ONLY_P2P": 5, "ACL_MEM_MALLOC_HUGE1G_ONLY": 6,
        "ACL_MEM_MALLOC_HUGE1G_ONLY_P2P": 7, "ACL_MEM_TYPE_LOW_BAND_WIDTH": 256,
        "ACL_MEM_TYPE_HIGH_BAND_WIDTH": 4096, "ACL_MEM_ACCESS_USER_SPACE_READONLY": 1048576,
        "ACL_MEMCPY_HOST_TO_HOST": 0, "ACL_MEMCPY_HOST_TO_DEVICE": 1,
        "ACL_MEMCPY_DEVICE_TO_HOST": 2, "ACL_MEMCPY_DEVICE_TO_DEVICE": 3, "ACL_MEMCPY_DEFAULT": 4,
        "ACL_MEMCPY_HOST_TO_BUF_TO_DEVICE": 5, "ACL_MEMCPY_INNER_DEVICE_TO_DEVICE": 6,
        "ACL_MEMCPY_INTER_DEVICE_TO_DEVICE": 7,
        # aclrtMemAttr (CANN runtime acl_rt.h; implicit values 0..17 there)
        "ACL_DDR_MEM": 0, "ACL_HBM_MEM": 1, "ACL_DDR_MEM_HUGE": 2, "ACL_DDR_MEM_NORMAL": 3,
        "ACL_HBM_MEM_HUGE": 4, "ACL_HBM_MEM_NORMAL": 5, "ACL_DDR_MEM_P2P_HUGE": 6,
        "ACL_DDR_MEM_P2P_NORMAL": 7, "ACL_HBM_MEM_P2P_HUGE": 8, "ACL_HBM_MEM_P2P_NORMAL": 9,
        "ACL_HBM_MEM_HUGE1G": 10, "ACL_HBM_MEM_P2P_HUGE1G": 11, "ACL_MEM_NORMAL": 12, "ACL_MEM_HUGE": 13,
        "ACL_MEM_HUGE1G": 14, "ACL_MEM_P2P_NORMAL": 15, "ACL_MEM_P2P_HUGE": 16, "ACL_MEM_P2P_HUGE1G": 17,
    },
    "acl/error_codes/rt_error_codes.h": {
        "ACL_ERROR_RT_PARAM_INVALID": 107000, "ACL_ERROR_RT_INVALID_DEVICEID": 107001,
        "ACL_ERROR_RT_CONTEXT_NULL": 107002, "ACL_ERROR_RT_STREAM_CONTEXT": 107003,
        "ACL_ERROR_RT_ADDR_UNALIGNED": 107008, "ACL_ERROR_RT_INVALID_MEMORY_TYPE": 107016,
        "ACL_ERROR_RT_INVALID_HANDLE": 107017, "ACL_ERROR_RT_INVALID_MALLOC_TYPE": 107018,
        "ACL_ERROR_RT_WAIT_TIMEOUT": 107019, "ACL_ERROR_RT_TASK_TIMEOUT": 107020,
        "ACL_ERROR_RT_STREAM_ABORT": 107023,  # hicann/runtime docs/api_docs/aclError.md
        "ACL_ERROR_RT_FEATURE_NOT_SUPPORT": 207000, "ACL_ERROR_RT_MEMORY_ALLOCATION": 207001,
        "ACL_ERROR_RT_MEMORY_FREE": 207002, "ACL_ERROR_RT_NO_DEVICE": 207004,
        "ACL_ERROR_RT_RESOURCE_ALLOC_FAIL": 207005, "ACL_ERROR_RT_NO_EVENT_RESOURCE": 207007,
        "ACL_ERROR_RT_NO_STREAM_RESOURCE": 207008, "ACL_ERROR_RT_DEVICE_OOM": 207018,
        "ACL_ERROR_RT_TIMEOUT": 207020, "ACL_ERROR_RT_INTERNAL_ERROR": 507000,
        "ACL_ERROR_RT_STREAM_NOT_COMPLETE": 507004,
        "ACL_ERROR_RT_MODEL_EXECUTE": 507011, "ACL_ERROR_RT_AICORE_EXCEPTION": 507015,
        "ACL_ERROR_RT_VECTOR_CORE_EXCEPTION": 507035, "ACL_ERROR_RT_STREAM_SYNC_TIMEOUT": 507046,
        "ACL_ERROR_RT_EVENT_SYNC_TIMEOUT": 507047, "ACL_ERROR_RT_DRV_INTERNAL_ERROR": 507899,
        "ACL_ERROR_RT_CONTEXT_RELEASE_ERROR": 507007,
    },
    "aclnn/opdev/op_errno.h": {
        "ACLNN_SUCCESS": 0, "ACLNN_ERR_PARAM_NULLPTR": 161001, "ACLNN_ERR_PARAM_INVALID": 161002,
        "ACLNN_ERR_RUNTIME_ERROR": 361001, "ACLNN_ERR_INNER": 561000,
        "ACLNN_ERR_INNER_INFERSHAPE_ERROR": 561001, "ACLNN_ERR_INNER_TILING_ERROR": 561002,
        "ACLNN_ERR_INNER_FIND_KERNEL_ERROR": 561003, "ACLNN_ERR_INNER_CREATE_EXECUTOR": 561101,
        "ACLNN_ERR_INNER_NOT_TRANS_EXECUTOR": 561102, "ACLNN_ERR_INNER_NULLPTR": 561103,
        "ACLNN_ERR_INNER_WRONG_ATTR_INFO_SIZE": 561104, "ACLNN_ERR_INNER_KEY_CONFLICT": 561105,
        "ACLNN_ERR_INNER_KEY_CONFILICT": 561105, "ACLNN_ERR_INNER_INVALID_IMPL_MODE": 561106,
        "ACLNN_ERR_INNER_OPP_PATH_NOT_FOUND": 561107, "ACLNN_ERR_INNER_LOAD_JSON_FAILED": 561108,
        "ACLNN_ERR_INNER_JSON_VALUE_NOT_FOUND": 561109,
        "ACLNN_ERR_INNER_JSON_FORMAT_INVALID": 561110,
        "ACLNN_ERR_INNER_JSON_DTYPE_INVALID": 561111,
        "ACLNN_ERR_INNER_OPP_KERNEL_PKG_NOT_FOUND": 561112,
        "ACLNN_ERR_INNER_OP_FILE_INVALID": 561113, "ACLNN_ERR_INNER_ATTR_NUM_OUT_OF_BOUND": 561114,
        "ACLNN_ERR_INNER_ATTR_LEN_NOT_ENOUGH": 561115,
        "ACLNN_ERR_INNER_INPUT_NUM_IN_JSON_TOO_LARGE": 561116,
        "ACLNN_ERR_INNER_INPUT_JSON_IS_NULL": 561117,
        "ACLNN_ERR_INNER_STATIC_WORKSPACE_INVALID": 561118,
        "ACLNN_ERR_INNER_STATIC_BLOCK_DIM_INVALID": 561119,
    },
    "hccl/hccl_types.h": {
        "HCCL_ROOT_INFO_BYTES": 4108, "COMM_NAME_MAX_LENGTH": 128, "UDI_MAX_LENGTH": 128,
        "BUFFER_NAME_MAX_LENGTH": 128, "HCCL_COMM_ALGO_MAX_LENGTH": 1600,
        "HCCL_COMM_RETRY_ENABLE_MAX_LENGTH": 50, "HCCL_COMM_RETRY_PARAMS_MAX_LENGTH": 128,
        "HCCL_COMM_CONFIG_INFO_BYTES": 24, "HCCL_COMM_CONFIG_MAGIC_WORD": 0xf0f0f0f0,
        "HCCL_COMM_CONFIG_VERSION": 10, "HCCL_COMM_DEFAULT_BUFFSIZE": 200,
        "HCCL_COMM_BUFFSIZE_CONFIG_NOT_SET": 0xffffffff,
        "HCCL_COMM_DETERMINISTIC_CONFIG_NOT_SET": 0xffffffff,
        "HCCL_COMM_TRAFFIC_CLASS_CONFIG_NOT_SET": 0xffffffff,
        "HCCL_COMM_SERVICE_LEVEL_CONFIG_NOT_SET": 0xffffffff,
        "HCCL_COMM_QOS_CONFIG_NOT_SET": 0xffffffff, "HCCL_COMM_EXECTIMEOUT_CONFIG_NOT_SET": -1,
        "HCCL_COMM_DEFAULT_DETERMINISTIC": 0, "HCCL_COMM_DEFAULT_OP_EXPANSION_MODE": 0,
        "HCCL_DEFAULT_SYMMETRIC_MEMORY_STRIDE": 16, "HCCL_SUCCESS": 0, "HCCL_E_PARA": 1,
        "HCCL_E_PTR": 2, "HCCL_E_MEMORY": 3, "HCCL_E_INTERNAL": 4, "HCCL_E_NOT_SUPPORT": 5,
        "HCCL_E_NOT_FOUND": 6, "HCCL_E_UNAVAIL": 7, "HCCL_E_SYSCALL": 8, "HCCL_E_TIMEOUT": 9,
        "HCCL_E_OPEN_FILE_FAILURE": 10, "HCCL_E_TCP_CONNECT": 11, "HCCL_E_ROCE_CONNECT": 12,
        "HCCL_E_TCP_TRANSFER": 13, "HCCL_E_ROCE_TRANSFER": 14, "HCCL_E_RUNTIME": 15,
        "HCCL_E_DRV": 16, "HCCL_E_PROFILING": 17, "HCCL_E_CCE": 18, "HCCL_E_NETWORK": 19,
        "HCCL_E_AGAIN": 20, "HCCL_E_REMOTE": 21, "HCCL_E_SUSPENDING": 22,
        "HCCL_E_OPRETRY_FAIL": 23, "HCCL_E_OOM": 24, "HCCL_E_IN_STATUS": 1041,
        "HCCL_REDUCE_SUM": 0, "HCCL_REDUCE_PROD": 1, "HCCL_REDUCE_MAX": 2, "HCCL_REDUCE_MIN": 3,
        "HCCL_REDUCE_RESERVED": 255, "HCCL_DATA_TYPE_INT8": 0, "HCCL_DATA_TYPE_INT16": 1,
        "HCCL_DATA_TYPE_INT32": 2, "HCCL_DATA_TYPE_FP16": 3, "HCCL_DATA_TYPE_FP32": 4,
        "HCCL_DATA_TYPE_INT64": 5, "HCCL_DATA_TYPE_UINT64": 6, "HCCL_DATA_TYPE_UINT8": 7,
        "HCCL_DATA_TYPE_UINT16": 8, "HCCL_DATA_TYPE_UINT32": 9, "HCCL_DATA_TYPE_FP64": 10,
        "HCCL_DATA_TYPE_BFP16": 11, "HCCL_DATA_TYPE_INT128": 12, "HCCL_DATA_TYPE_HIF8": 14,
        "HCCL_DATA_TYPE_FP8E4M3": 15, "HCCL_DATA_TYPE_FP8E5M2": 16, "HCCL_DATA_TYPE_FP8E8M0": 17,
        "HCCL_DATA_TYPE_RESERVED": 255, "HCCL_DETERMINISTIC": 0, "HCCL_COMM_CONFIG_BUFFER_SIZE": 0,
        "HCCL_COMM_CONFIG_DETERMINISTIC": 1, "HCCL_COMM_CONFIG_COMM_NAME": 2,
        "HCCL_COMM_CONFIG_OP_EXPANSION_MODE": 3, "HCCL_COMM_CONFIG_SUPPORT_INIT_BY_ENV": 4,
        "HCCL_COMM_CONFIG_WORLD_RANKID": 5, "HCCL_COMM_CONFIG_JOBID": 6,
        "HCCL_COMM_CONFIG_ACLGRAPH_ZEROCOPY_ENABLE": 7, "HCCL_COMM_CONFIG_EXEC_TIMEOUT": 8,
        "HCCL_COMM_CONFIG_ALGO": 9, "HCCL_COMM_CONFIG_RETRY": 10,
        "HCCL_COMM_CONFIG_BUFFER_NAME": 11, "HCCL_COMM_CONFIG_RESERVED": 12,
        "HCCL_SEND": 0, "HCCL_RECV": 1, "HCCL_SEND_RECV_RESERVED": 2,
    },
}

# Every prototype, as CANN publishes it: the runtime's acl_rt.h and acl.h, opbase's
# acl_meta.h and aclnn_base.h, hcomm's hccl_comm.h and hccl's hccl.h, and the 函数原型
# (prototype) sections of the operator documents (aclnnQuantMatmulAllReduceV4.md and V1-V3,
# aclnnGroupedMatmulV5.md, aclnnTransMatmulWeight.md, aclnnCalculateMatmulWeightSizeV2.md,
# aclnnTransQuantParamV2.md; GroupedMatmul V1-V4 and WeightNz: their op_api headers,
# ops-transformer gmm/grouped_matmul/op_api/, 2026-08), and the op_api headers of
# aclnnNpuFormatCast (ops-math), aclnnWeightQuantBatchMatmulV2 and aclnnDynamicQuant (ops-nn); aclnnMm.md, aclnnMatmul.md, aclnnCast.md, aclnnPermute.md.
# Compared as text (names and order) and recompiled as redeclarations (types).
EXPECTED_PROTOTYPES = """
aclError aclInit(const char *configPath);
aclError aclFinalize(void);
const char *aclGetRecentErrMsg(void);
aclError aclrtGetVersion(int32_t *majorVersion, int32_t *minorVersion, int32_t *patchVersion);
aclError aclsysGetCANNVersion(aclCANNPackageName name, aclCANNPackageVersion *version);
aclError aclsysGetVersionStr(char *pkgName, char *versionStr);
aclError aclsysGetVersionNum(char *pkgName, int32_t *versionNum);
const char *aclrtGetSocName(void);
float aclFloat16ToFloat(aclFloat16 value);
aclFloat16 aclFloatToFloat16(float value);
aclError aclrtSetDevice(int32_t deviceId);
aclError aclrtResetDevice(int32_t deviceId);
aclError aclrtGetDevice(int32_t *deviceId);
aclError aclrtGetDeviceCount(uint32_t *count);
aclError aclrtSynchronizeDevice(void);
aclError aclrtCreateContext(aclrtContext *context, int32_t deviceId);
aclError aclrtDestroyContext(aclrtContext context);
aclError aclrtSetCurrentContext(aclrtContext context);
aclError aclrtGetCurrentContext(aclrtContext *context);
aclError aclrtCreateStream(aclrtStream *stream);
aclError aclrtDestroyStream(aclrtStream stream);
aclError aclrtSynchronizeStream(aclrtStream stream);
aclError aclrtSynchronizeStreamWithTimeout(aclrtStream stream, int32_t timeout);
aclError aclrtStreamWaitEvent(aclrtStream stream, aclrtEvent event);
aclError aclrtMalloc(void **devPtr, size_t size, aclrtMemMallocPolicy policy);
aclError aclrtFree(void *devPtr);
aclError aclrtGetMemInfo(aclrtMemAttr attr, size_t *free, size_t *total);
aclError aclrtMallocHost(void **hostPtr, size_t size);
aclError aclrtFreeHost(void *hostPtr);
aclError aclrtMemcpy(void *dst, size_t destMax, const void *src, size_t count,
    aclrtMemcpyKind kind);
aclError aclrtMemcpyAsync(void *dst, size_t destMax, const void *src, size_t count,
    aclrtMemcpyKind kind, aclrtStream stream);
aclError aclrtMemset(void *devPtr, size_t maxCount, int32_t value, size_t count);
aclError aclrtMemsetAsync(void *devPtr, size_t maxCount, int32_t value, size_t count,
    aclrtStream stream);
aclError aclrtCreateEvent(aclrtEvent *event);
aclError aclrtRecordEvent(aclrtEvent event, aclrtStream stream);
aclError aclrtSynchronizeEvent(aclrtEvent event);
aclError aclrtDestroyEvent(aclrtEvent event);
aclError aclrtEventElapsedTime(float *ms, aclrtEvent startEvent, aclrtEvent endEvent);
aclnnStatus aclnnInit(const char *configPath);
aclnnStatus aclnnFinalize(void);
aclTensor *aclCreateTensor(const int64_t *viewDims, uint64_t viewDimsNum, aclDataType dataType,
    const int64_t *stride, int64_t offset, aclFormat format, const int64_t *storageDims,
    uint64_t storageDimsNum, void *tensorData);
aclScalar *aclCreateScalar(void *value, aclDataType dataType);
aclIntArray *aclCreateIntArray(const int64_t *value, uint64_t size);
aclFloatArray *aclCreateFloatArray(const float *value, uint64_t size);
aclBoolArray *aclCreateBoolArray(const bool *value, uint64_t size);
aclTensorList *aclCreateTensorList(const aclTensor *const *value, uint64_t size);
aclScalarList *aclCreateScalarList(const aclScalar *const *value, uint64_t size);
aclnnStatus aclDestroyTensor(const aclTensor *tensor);
aclnnStatus aclDestroyScalar(const aclScalar *scalar);
aclnnStatus aclDestroyIntArray(const aclIntArray *array);
aclnnStatus aclDestroyFloatArray(const aclFloatArray *array);
aclnnStatus aclDestroyBoolArray(const aclBoolArray *array);
aclnnStatus aclDestroyTensorList(const aclTensorList *array);
aclnnStatus aclDestroyScalarList(const aclScalarList *array);
aclnnStatus aclGetViewShape(const aclTensor *tensor, int64_t **viewDims, uint64_t *viewDimsNum);
aclnnStatus aclGetStorageShape(const aclTensor *tensor, int64_t **storageDims,
    uint64_t *storageDimsNum);
aclnnStatus aclGetViewStrides(const aclTensor *tensor, int64_t **stridesValue,
    uint64_t *stridesNum);
aclnnStatus aclGetViewOffset(const aclTensor *tensor, int64_t *offset);
aclnnStatus aclGetFormat(const aclTensor *tensor, aclFormat *format);
aclnnStatus aclGetDataType(const aclTensor *tensor, aclDataType *dataType);
aclnnStatus aclGetIntArraySize(const aclIntArray *array, uint64_t *size);
aclnnStatus aclGetFloatArraySize(const aclFloatArray *array, uint64_t *size);
aclnnStatus aclGetBoolArraySize(const aclBoolArray *array, uint64_t *size);
aclnnStatus aclGetTensorListSize(const aclTensorList *tensorList, uint64_t *size);
aclnnStatus aclGetScalarListSize(const aclScalarList *scalarList, uint64_t *size);
aclnnStatus aclInitTensor(aclTensor *tensor, const int64_t *viewDims, uint64_t viewDimsNum,
    aclDataType dataType, const int64_t *stride, int64_t offset, aclFormat format,
    const int64_t *storageDims, uint64_t storageDimsNum, void *tensorDataAddr);
aclnnStatus aclSetAclOpExecutorRepeatable(aclOpExecutor *executor);
aclnnStatus aclDestroyAclOpExecutor(aclOpExecutor *executor);
aclnnStatus aclSetInputTensorAddr(aclOpExecutor *executor, const size_t index, aclTensor *tensor,
    void *addr);
aclnnStatus aclSetOutputTensorAddr(aclOpExecutor *executor, const size_t index, aclTensor *tensor,
    void *addr);
aclnnStatus aclSetTensorAddr(aclOpExecutor *executor, const size_t index, aclTensor *tensor,
    void *addr);
aclnnStatus aclSetDynamicInputTensorAddr(aclOpExecutor *executor, size_t irIndex,
    const size_t relativeIndex, aclTensorList *tensors, void *addr);
aclnnStatus aclSetDynamicOutputTensorAddr(aclOpExecutor *executor, size_t irIndex,
    const size_t relativeIndex, aclTensorList *tensors, void *addr);
aclnnStatus aclSetDynamicTensorAddr(aclOpExecutor *executor, size_t irIndex,
    const size_t relativeIndex, aclTensorList *tensors, void *addr);
aclnnStatus aclSetRawTensorAddr(aclTensor *tensor, void *addr);
aclnnStatus aclGetRawTensorAddr(const aclTensor *tensor, void **addr);
aclnnStatus aclnnQuantMatmulAllReduceGetWorkspaceSize(const aclTensor *x1, const aclTensor *x2,
    const aclTensor *bias, const aclTensor *x3, const aclTensor *dequantScale, const char *group,
    const char *reduceOp, int64_t commTurn, int64_t streamMode, const aclTensor *output,
    uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnQuantMatmulAllReduce(void *workspace, uint64_t workspaceSize,
    aclOpExecutor *executor, const aclrtStream stream);
aclnnStatus aclnnQuantMatmulAllReduceV2GetWorkspaceSize(const aclTensor *x1, const aclTensor *x2,
    const aclTensor *biasOptional, const aclTensor *x3Optional, const aclTensor *dequantScale,
    const aclTensor *pertokenScaleOptional, const char *group, const char *reduceOp,
    int64_t commTurn, int64_t streamMode, const aclTensor *output, uint64_t *workspaceSize,
    aclOpExecutor **executor);
aclnnStatus aclnnQuantMatmulAllReduceV2(void *workspace, uint64_t workspaceSize,
    aclOpExecutor *executor, const aclrtStream stream);
aclnnStatus aclnnQuantMatmulAllReduceV3GetWorkspaceSize(const aclTensor *x1, const aclTensor *x2,
    const aclTensor *biasOptional, const aclTensor *x3Optional, const aclTensor *dequantScale,
    const aclTensor *pertokenScaleOptional, const aclTensor *commQuantScale1Optional,
    const aclTensor *commQuantScale2Optional, const char *group, const char *reduceOp,
    int64_t commTurn, int64_t streamMode, const aclTensor *output, uint64_t *workspaceSize,
    aclOpExecutor **executor);
aclnnStatus aclnnQuantMatmulAllReduceV3(void *workspace, uint64_t workspaceSize,
    aclOpExecutor *executor, const aclrtStream stream);
aclnnStatus aclnnQuantMatmulAllReduceV4GetWorkspaceSize( const aclTensor *x1, const aclTensor *x2,
    const aclTensor *biasOptional, const aclTensor *x3Optional, const aclTensor *x1ScaleOptional,
    const aclTensor *x2Scale, const aclTensor *commQuantScale1Optional,
    const aclTensor *commQuantScale2Optional, const char *group, const char *reduceOp,
    int64_t commTurn, int64_t streamMode, int64_t groupSize, int64_t commQuantMode,
    const aclTensor *output, uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnQuantMatmulAllReduceV4(void *workspace, uint64_t workspaceSize,
    aclOpExecutor *executor, const aclrtStream stream);
aclnnStatus aclnnQuantMatmulAllReduceV5GetWorkspaceSize( const aclTensor *x1, const aclTensor *x2,
    const aclTensor *biasOptional, const aclTensor *x3Optional, const aclTensor *x1ScaleOptional,
    const aclTensor *x2Scale, const aclTensor *commQuantScale1Optional,
    const aclTensor *commQuantScale2Optional, const char *group, const char *reduceOp, const char *commMode,
    int64_t commTurn, int64_t streamMode, int64_t groupSize, int64_t commQuantMode,
    const aclTensor *output, uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnQuantMatmulAllReduceV5(void *workspace, uint64_t workspaceSize,
    aclOpExecutor *executor, const aclrtStream stream);
aclnnStatus aclnnMatmulAllReduceGetWorkspaceSize(const aclTensor *x1, const aclTensor *x2,
    const aclTensor *bias, const char *group, const char *reduceOp, int64_t commTurn, int64_t streamMode,
    const aclTensor *output, uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnMatmulAllReduce(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
    const aclrtStream stream);
aclnnStatus aclnnMatmulAllReduceV2GetWorkspaceSize(const aclTensor *x1, const aclTensor *x2,
    const aclTensor *bias, const aclTensor *x3, const char *group, const char *reduceOp, int64_t commTurn,
    int64_t streamMode, const aclTensor *output, uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnMatmulAllReduceV2(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
    const aclrtStream stream);
aclnnStatus aclnnMatmulAllReduceV3GetWorkspaceSize(const aclTensor *x1, const aclTensor *x2,
    const aclTensor *bias, const aclTensor *x3, const char *group, const char *reduceOp,
    const char *commMode, int64_t commTurn, int64_t streamMode, const aclTensor *output,
    uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnMatmulAllReduceV3(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
    const aclrtStream stream);
aclnnStatus aclnnWeightQuantMatmulAllReduceGetWorkspaceSize( const aclTensor *x1, const aclTensor *x2,
    const aclTensor *bias, const aclTensor *antiquantScale, const aclTensor *antiquantOffset,
    const aclTensor *x3, const char *group, const char *reduceOp, int64_t commTurn, int64_t streamMode,
    int64_t antiquantGroupSize, const aclTensor *output, uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnWeightQuantMatmulAllReduce(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
    const aclrtStream stream);
aclnnStatus aclnnWeightQuantMatmulAllReduceV2GetWorkspaceSize( const aclTensor *x1, const aclTensor *x2,
    const aclTensor *bias, const aclTensor *antiquantScale, const aclTensor *antiquantOffset,
    const aclTensor *x3, const char *group, const char *reduceOp, const char *commMode, int64_t commTurn,
    int64_t streamMode, int64_t antiquantGroupSize, const aclTensor *output, uint64_t *workspaceSize,
    aclOpExecutor **executor);
aclnnStatus aclnnWeightQuantMatmulAllReduceV2(void *workspace, uint64_t workspaceSize,
    aclOpExecutor *executor, const aclrtStream stream);
aclnnStatus aclnnGroupedMatmulV5GetWorkspaceSize( const aclTensorList *x,
    const aclTensorList *weight, const aclTensorList *biasOptional,
    const aclTensorList *scaleOptional, const aclTensorList *offsetOptional,
    const aclTensorList *antiquantScaleOptional, const aclTensorList *antiquantOffsetOptional,
    const aclTensorList *perTokenScaleOptional, const aclTensor *groupListOptional,
    const aclTensorList *activationInputOptional, const aclTensorList *activationQuantScaleOptional,
    const aclTensorList *activationQuantOffsetOptional, int64_t splitItem, int64_t groupType,
    int64_t groupListType, int64_t actType, aclIntArray *tuningConfigOptional, aclTensorList *out,
    aclTensorList *activationFeatureOutOptional, aclTensorList *dynQuantScaleOutOptional,
    uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnGroupedMatmulV5(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
    aclrtStream stream);
aclnnStatus aclnnGroupedMatmulGetWorkspaceSize(const aclTensorList *x, const aclTensorList *weight, const aclTensorList *biasOptional,
    const aclTensorList *scaleOptional, const aclTensorList *offsetOptional,
    const aclTensorList *antiquantScaleOptional, const aclTensorList *antiquantOffsetOptional,
    const aclIntArray *groupListOptional, int64_t splitItem, const aclTensorList *y, uint64_t *workspaceSize,
    aclOpExecutor **executor);
aclnnStatus aclnnGroupedMatmul(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
    aclrtStream stream);
aclnnStatus aclnnGroupedMatmulV2GetWorkspaceSize(const aclTensorList *x, const aclTensorList *weight, const aclTensorList *biasOptional,
    const aclTensorList *scaleOptional, const aclTensorList *offsetOptional,
    const aclTensorList *antiquantScaleOptional, const aclTensorList *antiquantOffsetOptional,
    const aclIntArray *groupListOptional, int64_t splitItem, int64_t groupType, const aclTensorList *y,
    uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnGroupedMatmulV2(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
    aclrtStream stream);
aclnnStatus aclnnGroupedMatmulV3GetWorkspaceSize(const aclTensorList *x, const aclTensorList *weight, const aclTensorList *biasOptional,
    const aclTensorList *scaleOptional, const aclTensorList *offsetOptional,
    const aclTensorList *antiquantScaleOptional, const aclTensorList *antiquantOffsetOptional,
    const aclTensor *groupListOptional, int64_t splitItem, int64_t groupType, const aclTensorList *y,
    uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnGroupedMatmulV3(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
    aclrtStream stream);
aclnnStatus aclnnGroupedMatmulV4GetWorkspaceSize(const aclTensorList *x, const aclTensorList *weight, const aclTensorList *biasOptional,
    const aclTensorList *scaleOptional, const aclTensorList *offsetOptional,
    const aclTensorList *antiquantScaleOptional, const aclTensorList *antiquantOffsetOptional,
    const aclTensorList *perTokenScaleOptional, const aclTensor *groupListOptional,
    const aclTensorList *activationInputOptional, const aclTensorList *activationQuantScaleOptional,
    const aclTensorList *activationQuantOffsetOptional, int64_t splitItem, int64_t groupType,
    int64_t groupListType, int64_t actType, aclTensorList *out, aclTensorList *activationFeatureOutOptional,
    aclTensorList *dynQuantScaleOutOptional, uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnGroupedMatmulV4(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
    aclrtStream stream);
aclnnStatus aclnnGroupedMatmulWeightNzGetWorkspaceSize(const aclTensorList *x, const aclTensorList *weight, const aclTensorList *biasOptional,
    const aclTensorList *scaleOptional, const aclTensorList *offsetOptional,
    const aclTensorList *antiquantScaleOptional, const aclTensorList *antiquantOffsetOptional,
    const aclTensorList *perTokenScaleOptional, const aclTensor *groupListOptional,
    const aclTensorList *activationInputOptional, const aclTensorList *activationQuantScaleOptional,
    const aclTensorList *activationQuantOffsetOptional, int64_t splitItem, int64_t groupType,
    int64_t groupListType, int64_t actType, aclIntArray *tuningConfigOptional, int64_t quantGroupSize,
    aclTensorList *out, aclTensorList *activationFeatureOutOptional, aclTensorList *dynQuantScaleOutOptional,
    uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnGroupedMatmulWeightNz(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
    aclrtStream stream);
aclnnStatus aclnnCalculateMatmulWeightSize(const aclIntArray *tensorShape,
    uint64_t *weightTensorSize);
aclnnStatus aclnnCalculateMatmulWeightSizeV2(const aclIntArray *tensorShape, aclDataType dataType,
    uint64_t *weightTensorSize);
aclnnStatus aclnnTransMatmulWeightGetWorkspaceSize(aclTensor *mmWeightRef, uint64_t *workspaceSize,
    aclOpExecutor **executor);
aclnnStatus aclnnTransMatmulWeight(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
    aclrtStream stream);
aclnnStatus aclnnTransQuantParamV2GetWorkspaceSize(const aclTensor *scale, const aclTensor *offset,
    const aclTensor *out, uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnTransQuantParamV2(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
    const aclrtStream stream);
aclnnStatus aclnnNpuFormatCastGetWorkspaceSize(const aclTensor *srcTensor, aclTensor *dstTensor,
    uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnNpuFormatCast(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream);
aclnnStatus aclnnNpuFormatCastCalculateSizeAndFormat(const aclTensor *srcTensor, const int dstFormat,
    int additionalDtype, int64_t **dstShape, uint64_t *dstShapeSize, int *actualFormat);
aclnnStatus aclnnWeightQuantBatchMatmulV2GetWorkspaceSize(const aclTensor *x, const aclTensor *weight,
    const aclTensor *antiquantScale, const aclTensor *antiquantOffsetOptional, const aclTensor *quantScaleOptional,
    const aclTensor *quantOffsetOptional, const aclTensor *biasOptional, int antiquantGroupSize, const aclTensor *y,
    uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnWeightQuantBatchMatmulV2(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
    aclrtStream stream);
aclnnStatus aclnnDynamicQuantGetWorkspaceSize(const aclTensor *x, const aclTensor *smoothScalesOptional,
    const aclTensor *yOut, const aclTensor *scaleOut, uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnDynamicQuant(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream);
aclnnStatus aclnnMmGetWorkspaceSize(const aclTensor *self, const aclTensor *mat2, aclTensor *out,
    int8_t cubeMathType, uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnMm(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream);
aclnnStatus aclnnMatmulGetWorkspaceSize(const aclTensor *self, const aclTensor *mat2, aclTensor *out,
    int8_t cubeMathType, uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnMatmul(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream);
aclnnStatus aclnnCastGetWorkspaceSize(const aclTensor *self, const aclDataType dtype, aclTensor *out,
    uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnCast(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream);
aclnnStatus aclnnPermuteGetWorkspaceSize(const aclTensor *self, const aclIntArray *dims, aclTensor *out,
    uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnPermute(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
    const aclrtStream stream);
HcclResult HcclGetRootInfo(HcclRootInfo *rootInfo);
HcclResult HcclCommInitRootInfo(uint32_t nRanks, const HcclRootInfo *rootInfo, uint32_t rank,
    HcclComm *comm);
HcclResult HcclCommInitRootInfoConfig(uint32_t nRanks, const HcclRootInfo *rootInfo, uint32_t rank,
    const HcclCommConfig *config, HcclComm *comm);
HcclResult HcclCommInitClusterInfo(const char *clusterInfo, uint32_t rank, HcclComm *comm);
HcclResult HcclCommInitClusterInfoConfig(const char *clusterInfo, uint32_t rank,
    HcclCommConfig *config, HcclComm *comm);
HcclResult HcclCommInitAll(uint32_t ndev, int32_t *devices, HcclComm *comms);
HcclResult HcclGetCommName(HcclComm comm, char *commName);
HcclResult HcclGetRankSize(HcclComm comm, uint32_t *rankSize);
HcclResult HcclGetRankId(HcclComm comm, uint32_t *rank);
HcclResult HcclCommDestroy(HcclComm comm);
HcclResult HcclAllReduce(void *sendBuf, void *recvBuf, uint64_t count, HcclDataType dataType,
    HcclReduceOp op, HcclComm comm, aclrtStream stream);
HcclResult HcclBroadcast(void *buf, uint64_t count, HcclDataType dataType, uint32_t root,
    HcclComm comm, aclrtStream stream);
HcclResult HcclAllGather(void *sendBuf, void *recvBuf, uint64_t sendCount, HcclDataType dataType,
    HcclComm comm, aclrtStream stream);
HcclResult HcclReduceScatter(void *sendBuf, void *recvBuf, uint64_t recvCount, HcclDataType dataType,
    HcclReduceOp op, HcclComm comm, aclrtStream stream);
HcclResult HcclReduceScatterV(void *sendBuf, const void *sendCounts, const void *sendDispls, void *recvBuf,
    uint64_t recvCount, HcclDataType dataType, HcclReduceOp op, HcclComm comm, aclrtStream stream);
HcclResult HcclScatter(void *sendBuf, void *recvBuf, uint64_t recvCount, HcclDataType dataType, uint32_t root,
    HcclComm comm, aclrtStream stream);
HcclResult HcclAllGatherV(void *sendBuf, uint64_t sendCount, void *recvBuf, const void *recvCounts,
    const void *recvDispls, HcclDataType dataType, HcclComm comm, aclrtStream stream);
HcclResult HcclSend(void *sendBuf, uint64_t count, HcclDataType dataType, uint32_t destRank, HcclComm comm,
    aclrtStream stream);
HcclResult HcclRecv(void *recvBuf, uint64_t count, HcclDataType dataType, uint32_t srcRank, HcclComm comm,
    aclrtStream stream);
HcclResult HcclAlltoAllVC(const void *sendBuf, const void *sendCountMatrix, HcclDataType sendType,
    const void *recvBuf, HcclDataType recvType, HcclComm comm, aclrtStream stream);
HcclResult HcclAlltoAllV(const void *sendBuf, const void *sendCounts, const void *sdispls, HcclDataType sendType,
    const void *recvBuf, const void *recvCounts, const void *rdispls, HcclDataType recvType, HcclComm comm,
    aclrtStream stream);
HcclResult HcclAlltoAll(const void *sendBuf, uint64_t sendCount, HcclDataType sendType, const void *recvBuf,
    uint64_t recvCount, HcclDataType recvType, HcclComm comm, aclrtStream stream);
HcclResult HcclReduce(void *sendBuf, void *recvBuf, uint64_t count, HcclDataType dataType, HcclReduceOp op,
    uint32_t root, HcclComm comm, aclrtStream stream);
HcclResult HcclBatchSendRecv(HcclSendRecvItem *sendRecvInfo, uint32_t itemNum, HcclComm comm, aclrtStream stream);
HcclResult HcclBarrier(HcclComm comm, aclrtStream stream);
HcclResult HcclGetCommAsyncError(HcclComm comm, HcclResult *asyncError);
const char *HcclGetErrorString(HcclResult code);
uint32_t HcclGetCommConfigCapability(void);
"""

#: The operations of hicann/hccl include/hccl.h (declared in hccl/hccl.h, exported by libhccl).
HCCL_OPERATIONS = ["HcclAllReduce", "HcclBroadcast", "HcclReduceScatter", "HcclReduceScatterV", "HcclScatter",
                   "HcclAllGather", "HcclAllGatherV", "HcclSend", "HcclRecv", "HcclAlltoAllVC", "HcclAlltoAllV",
                   "HcclAlltoAll", "HcclReduce", "HcclBatchSendRecv"]

# Names that must NOT be defined anywhere (their value differs between CANN
# releases, so defining one would be a silent wrong answer on some install).
FORBIDDEN_NAMES = ["HCCL_E_RESERVED"]

ALL_CONSTANTS = {name: value for table in EXPECTED_CONSTANTS.values() for name, value in table.items()}


def _run(cmd):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.returncode == 0, "command failed: %s\n%s" % (" ".join(map(str, cmd)), proc.stdout)
    return proc.stdout


def _includes(headers, twice=True):
    lines = ['#include "%s"' % h for h in headers]
    if twice:  # include guards must make a second inclusion a no-op
        lines += ['#include "%s"' % h for h in headers]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Lint helpers of the convention checks
# ---------------------------------------------------------------------------


# The only preprocessor lines allowed (besides "#ifdef __cplusplus" and "#endif").
INT_LITERAL = r"(?:-?(?:0|[1-9][0-9]*)|0[xX][0-9a-fA-F]+)"
DEFINE_INT_RE = re.compile(r"^#define ([A-Za-z_][A-Za-z0-9_]*) (%s)$" % INT_LITERAL)
GUARD_IFNDEF_RE = re.compile(r"^#ifndef ([A-Z][A-Z0-9_]*_H)$")
GUARD_DEFINE_RE = re.compile(r"^#define ([A-Z][A-Z0-9_]*_H)$")
INCLUDE_RE = re.compile(r'^#include (?:<[A-Za-z0-9_./]+>|"[A-Za-z0-9_./]+")$')
# An empty marker macro: the stripper ignores it.
EMPTY_DEFINE_RE = re.compile(r"^#define [A-Z][A-Z0-9_]*$")
# A compiler-specific macro block (acl/acl_base.h's deprecation markers, as CANN's acl_base_rt.h):
# #if / #elif / #else / #endif around #define lines only; the stripper drops it.
MACRO_BLOCK_RE = re.compile(r"^#(if|elif) defined\(\w+\)( && \(__GNUC__ >= \d+\))?$|^#else$")
MACRO_DEFINE_RE = re.compile(r"^#define [A-Z][A-Z0-9_]*(\(\w+\))?( .*)?$")


def _split_cplusplus(code):
    """Split comment-free code into (C part, list of __cplusplus block bodies)."""
    c_lines, blocks, cur = [], [], None
    for line in code.split("\n"):
        s = line.strip()
        if s == "#ifdef __cplusplus":
            assert cur is None, "nested #ifdef __cplusplus"
            cur = []
        elif cur is not None and s == "#endif":
            blocks.append(cur)
            cur = None
        elif cur is not None:
            cur.append(line)
        else:
            c_lines.append(line)
    assert cur is None, "unterminated #ifdef __cplusplus"
    return "\n".join(c_lines), blocks


def _declarations(rel):
    """One header's declarations and integer defines, as the binding's stripper reads them."""
    return headers.declarations((INCLUDE / rel).read_text(), rel)


def _enum_members(decls):
    """(name, value text) of every enum member of some declarations."""
    return [tuple(x.strip() for x in member.split("="))
            for body in re.findall(r"\benum\b[^{;]*\{(.*?)\}", " ".join(decls))
            for member in body.split(",")]


# ---------------------------------------------------------------------------
# Header set and strict conventions (no compiler needed)
# ---------------------------------------------------------------------------


def test_header_set_is_complete():
    on_disk = sorted(str(p.relative_to(INCLUDE)) for p in INCLUDE.rglob("*.h"))
    assert on_disk == sorted(HEADERS), "update HEADERS in this test when adding/removing a header"


@pytest.mark.parametrize("rel", STRICT_HEADERS)
def test_strict_conventions(rel):
    """Every header stays inside the subset the pure-Python stripper understands."""
    raw = (INCLUDE / rel).read_text()
    assert "\\\n" not in raw, "no line continuations"
    assert "\t" not in raw, "no tabs"
    assert not re.search(r"//[^\n]*(/\*|\*/)", raw), "no /* or */ in a // comment (block comments go first)"

    # 1. Preprocessor lines: checked on the raw text, so that even a line of a
    #    comment cannot start with '#', and at column 0 only.
    directives = []
    for no, line in enumerate(raw.split("\n"), 1):
        if line.lstrip().startswith("#"):
            assert line.startswith("#"), "%s:%d: directive must start at column 0" % (rel, no)
            directives.append((no, line.rstrip()))
    assert len(directives) >= 3, "missing include guard"
    (_, first), (_, second), (_, last) = directives[0], directives[1], directives[-1]
    m1, m2 = GUARD_IFNDEF_RE.match(first), GUARD_DEFINE_RE.match(second)
    assert m1 and m2 and m1.group(1) == m2.group(1), "%s: must open with #ifndef X_H / #define X_H" % rel
    assert last == "#endif", "%s: must close with the guard #endif" % rel
    assert raw.rstrip().endswith("#endif"), "%s: nothing may follow the guard #endif" % rel
    depth, macro_block = 0, False
    for no, d in directives[2:-1]:
        if macro_block:
            assert MACRO_BLOCK_RE.match(d) or MACRO_DEFINE_RE.match(d) or d == "#endif", (
                "%s:%d: a #if block holds only #define, #elif and #else lines: %r" % (rel, no, d))
            macro_block = d != "#endif"
        elif d.startswith("#if ") and MACRO_BLOCK_RE.match(d):
            assert depth == 0, "%s:%d: a #if block inside #ifdef __cplusplus" % (rel, no)
            macro_block = True
        elif d == "#ifdef __cplusplus":
            assert depth == 0, "%s:%d: nested #ifdef" % (rel, no)
            depth = 1
        elif d == "#endif":
            assert depth == 1, "%s:%d: unmatched #endif" % (rel, no)
            depth = 0
        elif INCLUDE_RE.match(d):
            pass
        elif DEFINE_INT_RE.match(d) or EMPTY_DEFINE_RE.match(d):
            pass
        else:
            pytest.fail("%s:%d: directive not allowed: %r" % (rel, no, d))
    assert depth == 0, "%s: unterminated #ifdef __cplusplus" % rel

    # 2. __cplusplus blocks: only extern "C" { and } (C headers), blocks of C++
    #    standard-header includes (CANN's <string> of the MC2 headers), or the
    #    whole content (the C++-only fp16_t.h).
    code = _strip_comments(raw)
    c_code, blocks = _split_cplusplus(code)
    bodies = [[l.strip() for l in b if l.strip()] for b in blocks]
    cxx_includes = [b for b in bodies if b and all(re.match(r"^#include <[a-z_]+>$", l) for l in b)]
    bodies = [b for b in bodies if b not in cxx_includes]
    body_lines = [l for l in c_code.split("\n") if l.strip() and not l.startswith("#")]
    if rel in CXX_ONLY_HEADERS:
        assert len(blocks) == 1 and not body_lines, "%s: all content must be inside #ifdef __cplusplus" % rel
        return
    if not body_lines:
        # Macro-only header (error codes): nothing to give C linkage.
        assert not blocks, "%s: macro-only header needs no extern \"C\" wrapper" % rel
    else:
        assert bodies == [['extern "C" {'], ["}"]], (
            "%s: needs exactly one extern \"C\" wrapper, got %r" % (rel, bodies))
        lines = code.split("\n")
        opened = lines.index("#ifdef __cplusplus")
        last_open = len(lines) - 1 - lines[::-1].index("#ifdef __cplusplus")
        closed = lines.index("#endif", last_open)
        outside = [l for k, l in enumerate(lines)
                   if (k < opened or k > closed) and l.strip() and not l.startswith("#")]
        assert not outside, "%s: declarations outside the extern \"C\" wrapper: %r" % (rel, outside)

    # 3. The C part, as the stripper hands it to cffi: plain declarations only.
    c_code, _ = headers.strip(raw, rel)
    assert "::" not in c_code, "%s: no C++ scope operator in the C part" % rel
    for bad in ("__attribute__", "__declspec", "__extension__", "__asm__", "asm", "constexpr", "namespace",
                "template", "extern", "_Pragma", "register", "volatile", "_Static_assert", "static_assert"):
        assert not re.search(r"\b%s\b" % bad, c_code), "%s: %r not allowed in the C part" % (rel, bad)
    assert not re.search(r"\bstatic\s+const\b", c_code), "%s: no static const" % rel
    statics = re.findall(r"\bstatic\b.*", c_code)
    inlines = re.findall(r"\binline\b.*", c_code)
    if rel == "hccl/hccl_comm.h":
        assert [s.strip() for s in statics] == ["static inline void HcclCommConfigInit(HcclCommConfig *config)"]
        assert len(inlines) == 1
    else:
        assert not statics and not inlines, "%s: only hccl/hccl_comm.h may hold the static inline function" % rel
    decls_no_pp = "\n".join(_declarations(rel)[0])
    assert not re.search(r"\(\s*\)", decls_no_pp), "%s: use (void) for empty parameter lists" % rel
    assert '"' not in decls_no_pp and "'" not in decls_no_pp, "%s: no literals in declarations" % rel
    for m in re.finditer(r"\{", decls_no_pp):
        before = decls_no_pp[: m.start()].rstrip()
        assert re.search(r"\b(enum|struct|union)(\s+[A-Za-z_]\w*)?$", before), (
            "%s: only enum/struct/union bodies may use braces (near %r)" % (rel, before[-60:]))
    for body in re.findall(r"\benum\b[^{;]*\{(.*?)\}", decls_no_pp, re.S):
        members = [x.strip() for x in body.split(",")]
        assert members[-1], "%s: no trailing comma in enums" % rel
        for member in members:
            assert re.match(r"^[A-Za-z_]\w* = %s$" % INT_LITERAL, member), (
                "%s: enum member needs an explicit plain integer value: %r" % (rel, member))
    for size in re.findall(r"\[([^\]]*)\]", decls_no_pp):
        assert re.match(r"^(%s|[A-Z_][A-Z0-9_]*)$" % INT_LITERAL, size.strip()), "%s: array size %r" % (rel, size)


@pytest.mark.parametrize("rel", OPERATOR_HEADERS)
def test_operator_header_conventions(rel):
    """An operator header is written as CANN writes its own (include guard, ``ACLNN_API`` or the
    visibility attribute, C declarations in one ``extern "C"`` block) and the binding's tolerant
    reader declares every function it names: none refused, none missed."""
    raw = (INCLUDE / rel).read_text()
    guards = [GUARD_IFNDEF_RE.match(h.split("\n#define ")[0].split("\n")[-1])
              for h in ((INCLUDE / other).read_text() for other in HEADERS)]
    mine = GUARD_IFNDEF_RE.match(raw.split("\n#define ")[0].split("\n")[-1])
    assert mine and [g.group(1) for g in guards if g].count(mine.group(1)) == 1, "%s: guard missing or reused" % rel
    reading = operator_headers.read_file(INCLUDE / rel, headers.load().type_names, rel)
    assert reading.problem is None and not reading.refused, (reading.problem, reading.refused)
    named = set(re.findall(r"\b(aclnn\w+)\s*\(", _strip_comments(raw)))
    assert named == set(reading.functions), "%s: functions the reader missed: %s" % (rel, named - set(reading.functions))
    if rel != "aclnnop/aclnn_util.h":
        assert reading.functions and raw.count('extern "C" {') == 1, rel
        assert all(f.declaration.startswith("aclnnStatus ") for f in reading.functions.values())


def test_names_unique_and_known():
    """No name is defined twice (the stripper concatenates headers); sizes of arrays are known macros."""
    seen, guards = {}, set()
    for rel in STRICT_HEADERS:
        guard = GUARD_IFNDEF_RE.match((INCLUDE / rel).read_text().split("\n#define ")[0].split("\n")[-1])
        assert guard and guard.group(1) not in guards, "%s: include guard missing or reused" % rel
        guards.add(guard.group(1))
        decls, defines = _declarations(rel)
        names = list(defines) + [name for name, _ in _enum_members(decls)]
        for name in names:
            assert name not in seen, "%s defined in both %s and %s" % (name, seen[name], rel)
            seen[name] = rel
    for rel, table in EXPECTED_CONSTANTS.items():
        for name in table:
            assert seen.get(name) == rel, "%s must be defined in %s (found in %s)" % (name, rel, seen.get(name))
    extra = sorted(set(seen) - set(ALL_CONSTANTS))
    assert not extra, "constants without an expected value in this test: %s" % extra
    for name in FORBIDDEN_NAMES:
        assert name not in seen, "%s must not be defined" % name


def test_defined_values_match_expected():
    """Textual check of every #define / enum value (the C++ program re-checks with the compiler)."""
    found = {}
    for rel in STRICT_HEADERS:
        decls, defines = _declarations(rel)
        found.update(defines)
        found.update((name, int(value, 0)) for name, value in _enum_members(decls))
    assert {k: v for k, v in headers.parse(INCLUDE).constants.items() if k in found} == found  # what cffi gets
    wrong = {k: (found.get(k), v) for k, v in ALL_CONSTANTS.items() if found.get(k) != v}
    assert not wrong, "name: (header value, expected): %r" % wrong


def _normalise_prototype(decl):
    d = " ".join(decl.split())
    d = re.sub(r"\s*\*\s*", " *", d)
    d = d.replace("* *", "**")
    d = re.sub(r"\(\s*", "(", d)
    d = re.sub(r"\s*\)", ")", d)
    d = re.sub(r"\s*,\s*", ", ", d)
    return d.strip().rstrip(";").strip()


def _prototype_name(decl):
    return re.search(r"(\w+)\(", decl).group(1)


def _expected_header(name):
    """Which header must declare a function (CANN's own include paths)."""
    if name in ("aclInit", "aclFinalize") or name.startswith("aclsys"):
        return "acl/acl.h"
    if name in ("aclGetRecentErrMsg", "aclrtGetSocName", "aclFloat16ToFloat", "aclFloatToFloat16"):
        # CANN 9.x: acl_base_rt.h, reached from acl_base.h
        return "acl/acl_base.h"
    if name.startswith("aclrt"):
        return "acl/acl_rt.h"
    if name in ("aclnnInit", "aclnnFinalize"):
        return "aclnn/aclnn_base.h"
    if name.startswith("aclnnWeightQuantMatmulAllReduceV2"):
        return "aclnnop/aclnn_weight_quant_matmul_all_reduce_v2.h"
    if name.startswith("aclnnWeightQuantMatmulAllReduce"):
        return "aclnnop/aclnn_weight_quant_matmul_all_reduce.h"
    if name.startswith("aclnnMatmulAllReduceV"):
        return "aclnnop/aclnn_matmul_all_reduce_v%s.h" % name[len("aclnnMatmulAllReduceV")]
    if name.startswith("aclnnMatmulAllReduce"):
        return "aclnnop/aclnn_matmul_all_reduce.h"
    if name.startswith("aclnnQuantMatmulAllReduceV"):
        return "aclnnop/aclnn_quant_matmul_all_reduce_v%s.h" % name[len("aclnnQuantMatmulAllReduceV")]
    if name.startswith("aclnnQuantMatmulAllReduce"):
        return "aclnnop/aclnn_quant_matmul_all_reduce.h"
    if name.startswith("aclnnGroupedMatmulWeightNz"):
        return "aclnnop/aclnn_grouped_matmul_weight_nz.h"
    if name.startswith("aclnnGroupedMatmulV"):
        return "aclnnop/aclnn_grouped_matmul_v%s.h" % name[len("aclnnGroupedMatmulV")]
    if name.startswith("aclnnGroupedMatmul"):
        return "aclnnop/aclnn_grouped_matmul.h"
    if name.startswith(("aclnnCalculateMatmulWeightSize", "aclnnTransMatmulWeight")):
        return "aclnnop/aclnn_trans_matmul_weight.h"
    if name.startswith("aclnnTransQuantParamV2"):
        return "aclnnop/aclnn_trans_quant_param_v2.h"
    if name.startswith("aclnnNpuFormatCast"):
        return "aclnnop/aclnn_npu_format_cast.h"
    if name.startswith("aclnnWeightQuantBatchMatmulV2"):
        return "aclnnop/aclnn_weight_quant_batch_matmul_v2.h"
    if name.startswith("aclnnDynamicQuant"):
        return "aclnnop/aclnn_dynamic_quant.h"
    for stem, header in (("aclnnMm", "aclnn_mm.h"), ("aclnnMatmul", "aclnn_matmul.h"),
                         ("aclnnCast", "aclnn_cast.h"), ("aclnnPermute", "aclnn_permute.h")):
        if name in (stem, stem + "GetWorkspaceSize"):
            return "aclnnop/" + header
    if name in HCCL_OPERATIONS:  # hicann/hccl include/hccl.h
        return "hccl/hccl.h"
    if name.startswith("Hccl"):  # communicator management: hcomm's hccl/hccl_comm.h
        return "hccl/hccl_comm.h"
    if name.startswith("acl") and not name.startswith("aclnn"):
        return "aclnn/acl_meta.h"
    raise AssertionError("no header rule for " + name)


def _header_prototypes():
    """name -> (header, normalised prototype) of every function the binding declares: the runtime
    headers' through the strict stripper, the operator headers' through the tolerant reader."""
    found = {name: (fn.header, _normalise_prototype(fn.declaration))
             for name, fn in headers.parse(INCLUDE).functions.items()}
    for rel in OPERATOR_HEADERS:
        reading = operator_headers.read_file(INCLUDE / rel, headers.load().type_names, rel)
        found.update((name, (rel, _normalise_prototype(proto.declaration)))
                     for name, proto in reading.functions.items())
    return found


def test_prototypes_match_abi():
    """Names, parameter names and order of every prototype, as text; and the header holding it."""
    expected = [_normalise_prototype(d) for d in EXPECTED_PROTOTYPES.split(";") if d.strip()]
    assert len(expected) == 157
    found = _header_prototypes()
    for exp in expected:
        name = _prototype_name(exp)
        assert name in found, "%s is not declared" % name
        rel, got = found[name]
        assert got == exp, "prototype differs from CANN's:\n  header: %s\n  CANN:   %s" % (got, exp)
        assert rel == _expected_header(name), "%s belongs in %s, not %s" % (name, _expected_header(name), rel)
    extra = sorted(set(found) - {_prototype_name(e) for e in expected})
    assert not extra, "functions not in the expected list: %s" % extra


@pytest.mark.parametrize("header,line,message", [
    ("hccl/hccl.h", "aclnnStatus aclDestroyTensor(const aclTensor *tensor);",
     "aclDestroyTensor is already declared in aclnn/acl_meta.h"),
    ("hccl/hccl_comm.h", "#define ACL_SUCCESS 0", "ACL_SUCCESS is already defined in"),
    ("acl/acl_rt.h", "#if 1", "a #if block may hold only #define, #elif and #else lines"),
    ("acl/acl_rt.h", "#ifdef ACL_EXTRA", "unsupported directive: #ifdef ACL_EXTRA"),
    ("acl/acl_rt.h", "#ifndef ACL_EXTRA_H", "is never closed"),
    ("acl/acl_rt.h", "#define ACL_ALIAS ACL_SUCCESS", "unsupported #define: #define ACL_ALIAS ACL_SUCCESS"),
])
def test_stripper_refuses_what_it_cannot_read(tmp_path, header, line, message):
    """The binding's stripper fails loudly on a header outside the style (a name declared twice,
    a directive or #define it does not understand) instead of producing a wrong cdef."""
    shutil.copytree(INCLUDE, tmp_path / "include")
    path = tmp_path / "include" / header
    lines = path.read_text().split("\n")
    guard = next(i for i, l in enumerate(lines) if l.startswith("#ifndef")) + 1  # its #define
    path.write_text("\n".join(lines[: guard + 1] + [line] + lines[guard + 1:]))
    with pytest.raises(ValueError, match=re.escape(message)):
        headers.parse(tmp_path / "include")


# Offsets of HcclCommConfig (version 10 layout of hicann/hcomm include/hccl/hccl_types.h, commit 2b912e7d).
HCCL_COMM_CONFIG_OFFSETS = [
    ("reserved", 0), ("hcclBufferSize", 24), ("hcclDeterministic", 28), ("hcclCommName", 32),
    ("hcclUdi", 160), ("hcclOpExpansionMode", 288), ("hcclRdmaTrafficClass", 292),
    ("hcclRdmaServiceLevel", 296), ("hcclWorldRankID", 300), ("hcclJobID", 304),
    ("aclGraphZeroCopyEnable", 312), ("hcclExecTimeOut", 316), ("hcclAlgo", 320),
    ("hcclRetryEnable", 1920), ("hcclRetryParams", 1970), ("hcclBufferName", 2098),
    ("hcclQos", 2228), ("hcclSymWinMaxMemSizePerRank", 2232),
]


# ---------------------------------------------------------------------------
# Compilation
# ---------------------------------------------------------------------------

C_TU = _includes(HEADERS) + r"""
#include <stddef.h>
#include <stdint.h>

/* C99 has no _Static_assert: a negative array size fails the build. */
#define CHECK(name, cond) typedef char check_##name[(cond) ? 1 : -1]

CHECK(config_size, sizeof(HcclCommConfig) == 2240);
CHECK(config_qos, offsetof(HcclCommConfig, hcclQos) == 2228);
CHECK(config_symwin, offsetof(HcclCommConfig, hcclSymWinMaxMemSizePerRank) == 2232);
CHECK(config_timeout, offsetof(HcclCommConfig, hcclExecTimeOut) == 316);
CHECK(root_info_size, sizeof(HcclRootInfo) == 4108);
CHECK(pkg_version_size, sizeof(aclCANNPackageVersion) == 512);
CHECK(bool_size, sizeof(bool) == 1);
CHECK(status_size, sizeof(aclnnStatus) == 4);
CHECK(float16_size, sizeof(aclFloat16) == 2);
CHECK(fractal_nz, ACL_FORMAT_FRACTAL_NZ == 29);
CHECK(dt_undefined, ACL_DT_UNDEFINED == -1);

typedef aclnnStatus (*Phase2Fn)(void *, uint64_t, aclOpExecutor *, const aclrtStream);

int use_headers(void);
int use_headers(void)
{
    HcclCommConfig config;
    HcclRootInfo root;
    aclCANNPackageVersion version;
    Phase2Fn phase2[4];
    aclnnStatus (*v4)(const aclTensor *, const aclTensor *, const aclTensor *, const aclTensor *,
                      const aclTensor *, const aclTensor *, const aclTensor *, const aclTensor *,
                      const char *, const char *, int64_t, int64_t, int64_t, int64_t,
                      const aclTensor *, uint64_t *, aclOpExecutor **) =
        aclnnQuantMatmulAllReduceV4GetWorkspaceSize;
    aclnnStatus (*size_v2)(const aclIntArray *, aclDataType, uint64_t *) = aclnnCalculateMatmulWeightSizeV2;
    HcclResult (*all_reduce)(void *, void *, uint64_t, HcclDataType, HcclReduceOp, HcclComm, aclrtStream) =
        HcclAllReduce;
    aclError (*memcpy_async)(void *, size_t, const void *, size_t, aclrtMemcpyKind, aclrtStream) =
        aclrtMemcpyAsync;

    phase2[0] = aclnnQuantMatmulAllReduceV4;
    phase2[1] = aclnnGroupedMatmulV5;
    phase2[2] = aclnnTransMatmulWeight;
    phase2[3] = aclnnTransQuantParamV2;
    HcclCommConfigInit(&config);
    root.internal[0] = 0;
    version.version[0] = 0;
    return (int)config.hcclExecTimeOut + root.internal[0] + version.version[0] + (phase2[0] != 0) +
           (v4 != 0) + (size_v2 != 0) + (all_reduce != 0) + (memcpy_async != 0);
}
"""

CXX_TU = _includes(HEADERS) + r"""
#include <vector>

int use_headers();
int use_headers()
{
    std::vector<op::fp16_t> v(4, 1);
    HcclCommConfig config;
    HcclCommConfigInit(&config);
    return static_cast<int>(static_cast<float>(v[0])) + config.hcclExecTimeOut;
}
"""


@needs_gcc
@pytest.mark.parametrize("std", ["c99", "c11"])
def test_c_translation_unit(tmp_path, std):
    src = tmp_path / "all_headers.c"
    src.write_text(C_TU)
    _run([GCC, "-std=" + std] + C_FLAGS + ["-I", str(INCLUDE), "-c", str(src), "-o", str(tmp_path / "all.o")])


@needs_gxx
@pytest.mark.parametrize("std", ["c++11", "c++17"])
def test_cxx_translation_unit(tmp_path, std):
    src = tmp_path / "all_headers.cpp"
    src.write_text(CXX_TU)
    _run([GXX, "-std=" + std] + CXX_FLAGS + ["-I", str(INCLUDE), "-c", str(src), "-o", str(tmp_path / "all.o")])


REDECLARATIONS = _includes(HEADERS, twice=False) + """
#ifdef __cplusplus
extern "C" {
#endif
""" + EXPECTED_PROTOTYPES + """
#ifdef __cplusplus
}
#endif
"""


@needs_gcc
def test_redeclare_expected_prototypes_c(tmp_path):
    """Any type difference between a header and CANN's prototype is a conflicting-types error."""
    src = tmp_path / "redeclare.c"
    src.write_text(REDECLARATIONS)
    _run([GCC, "-std=c99"] + C_FLAGS + ["-I", str(INCLUDE), "-fsyntax-only", str(src)])


@needs_gxx
def test_redeclare_expected_prototypes_cxx(tmp_path):
    src = tmp_path / "redeclare.cpp"
    src.write_text(REDECLARATIONS)
    _run([GXX, "-std=c++17"] + CXX_FLAGS + ["-I", str(INCLUDE), "-fsyntax-only", str(src)])


@needs_gcc
@pytest.mark.parametrize("rel", C_HEADERS)
def test_header_self_contained_c(tmp_path, rel):
    src = tmp_path / "one.c"
    src.write_text('#include "%s"\ntypedef int translation_unit_not_empty;\n' % rel)
    _run([GCC, "-std=c99"] + C_FLAGS + ["-I", str(INCLUDE), "-fsyntax-only", str(src)])


@needs_gxx
@pytest.mark.parametrize("rel", HEADERS)
def test_header_self_contained_cxx(tmp_path, rel):
    src = tmp_path / "one.cpp"
    src.write_text('#include "%s"\n' % rel)
    _run([GXX, "-std=c++17"] + CXX_FLAGS + ["-I", str(INCLUDE), "-fsyntax-only", str(src)])


# ---------------------------------------------------------------------------
# Include chains: what a program gets from one header, as with CANN's header
# (include/README.md lists the chains). Functions are used by address, types
# by declaring one, macros and enumerators as values.
# ---------------------------------------------------------------------------

_RUNTIME = ["aclInit", "aclFinalize", "aclrtSetDevice", "aclrtCreateContext", "aclrtCreateStream",
            "aclrtMalloc", "aclrtMemcpy", "aclrtSynchronizeStreamWithTimeout", "aclrtGetMemInfo",
            "aclrtGetSocName", "aclGetRecentErrMsg", "aclsysGetVersionStr"]
_RUNTIME_VALUES = ["ACL_SUCCESS", "ACL_MEM_MALLOC_HUGE_FIRST", "ACL_MEMCPY_HOST_TO_DEVICE", "ACL_HBM_MEM",
                   "ACL_ERROR_RT_PARAM_INVALID", "ACL_STOP_ON_FAILURE", "ACL_MAJOR_VERSION", "ACL_FLOAT16"]
_HCCL = ["HcclGetRootInfo", "HcclCommInitRootInfo", "HcclCommInitAll", "HcclGetCommName", "HcclCommDestroy",
         "HcclBarrier", "HcclGetErrorString", "HcclCommConfigInit"]
_META = ["aclCreateTensor", "aclCreateIntArray", "aclCreateTensorList", "aclDestroyTensor", "aclGetFormat",
         "aclnnInit", "aclnnFinalize", "malloc", "free"]

#: header -> (functions, values, C types, C++-only expressions) a program may use after including only it.
INCLUDE_CHAINS = {
    "acl/acl_base.h": (["aclGetRecentErrMsg", "aclrtGetSocName", "aclFloatToFloat16"], ["ACL_SUCCESS", "ACL_ERROR_RT_PARAM_INVALID",
                       "ACL_FLOAT16", "ACL_FORMAT_ND"], ["aclrtStream", "size_t", "int64_t"], []),
    "acl/acl_rt.h": (["aclrtMalloc", "aclrtGetMemInfo", "aclrtGetSocName", "aclGetRecentErrMsg"],
                     ["ACL_HBM_MEM", "ACL_MEMCPY_DEVICE_TO_HOST", "ACL_ERROR_RT_MEMORY_ALLOCATION"],
                     ["bool", "aclrtMemAttr"], []),
    "acl/acl.h": (_RUNTIME, _RUNTIME_VALUES, ["bool", "aclCANNPackageVersion"], []),
    "aclnn/acl_meta.h": (["aclCreateTensor", "aclGetRecentErrMsg", "malloc"], ["ACL_INT8"],
                         ["aclnnStatus", "bool"], []),
    "aclnn/aclnn_base.h": (_META, ["ACL_FORMAT_FRACTAL_NZ"], ["aclOpExecutor *"], []),
    "hccl/hccl_comm.h": (_HCCL + _RUNTIME, _RUNTIME_VALUES + ["HCCL_SUCCESS", "HCCL_ROOT_INFO_BYTES"],
                         ["HcclRootInfo", "HcclCommConfig"], []),
    "hccl/hccl.h": (_HCCL + _RUNTIME + HCCL_OPERATIONS,
                    _RUNTIME_VALUES + ["HCCL_DATA_TYPE_FP16", "HCCL_REDUCE_SUM", "COMM_NAME_MAX_LENGTH", "HCCL_SEND"],
                    ["HcclComm", "HcclDataType", "HcclSendRecvItem"], []),
    "aclnnop/aclnn_quant_matmul_all_reduce_v4.h": (
        _META + _RUNTIME + _HCCL + ["aclnnQuantMatmulAllReduceV4GetWorkspaceSize", "aclnnQuantMatmulAllReduceV4"],
        _RUNTIME_VALUES + ["HCCL_REDUCE_SUM"], ["HcclComm", "aclTensor *"], ["std::string(\"sum\").size()"]),
    **{"aclnnop/aclnn_quant_matmul_all_reduce%s.h" % suffix: (
        _META + _RUNTIME + _HCCL + ["aclnnQuantMatmulAllReduce%sGetWorkspaceSize" % version,
                                    "aclnnQuantMatmulAllReduce%s" % version],
        _RUNTIME_VALUES + ["HCCL_REDUCE_SUM"], ["HcclComm", "aclTensor *"], ["std::string(\"sum\").size()"])
       for suffix, version in (("", ""), ("_v2", "V2"), ("_v3", "V3"), ("_v5", "V5"))},
    **{"aclnnop/aclnn_%s%s.h" % (name, suffix): (
        _META + _RUNTIME + _HCCL + ["aclnn%s%sGetWorkspaceSize" % (op, version), "aclnn%s%s" % (op, version)],
        _RUNTIME_VALUES + ["HCCL_REDUCE_SUM"], ["HcclComm", "aclTensor *"], ["std::string(\"sum\").size()"])
       for name, op in (("matmul_all_reduce", "MatmulAllReduce"),
                        ("weight_quant_matmul_all_reduce", "WeightQuantMatmulAllReduce"))
       for suffix, version in (("", ""), ("_v2", "V2"), ("_v3", "V3"))
       if (name, suffix) != ("weight_quant_matmul_all_reduce", "_v3")},
    **{"aclnnop/aclnn_grouped_matmul%s.h" % suffix: (
        _META + ["aclnnGroupedMatmul%sGetWorkspaceSize" % version, "aclGetRecentErrMsg"], ["ACL_INT64", "ACL_FLOAT"]
        + (["GMM_ACT_TYPE_SILU"] if version == "V4" else []), ["aclTensorList *", "aclIntArray *"]
        + (["GMMActType"] if version == "V4" else []), [])
       for suffix, version in (("", ""), ("_v2", "V2"), ("_v3", "V3"), ("_v4", "V4"), ("_v5", "V5"),
                               ("_weight_nz", "WeightNz"))},
    "aclnnop/aclnn_trans_matmul_weight.h": (
        _META + ["aclnnCalculateMatmulWeightSizeV2", "aclnnTransMatmulWeight"], ["ACL_INT8"], ["aclIntArray *"], []),
    "aclnnop/aclnn_trans_quant_param_v2.h": (
        _META + ["aclnnTransQuantParamV2GetWorkspaceSize"], ["ACL_UINT64"], ["aclTensor *"], []),
    "aclnnop/aclnn_npu_format_cast.h": (
        _META + ["aclnnNpuFormatCastCalculateSizeAndFormat", "aclnnNpuFormatCast"], ["ACL_FORMAT_FRACTAL_NZ"],
        ["aclTensor *"], []),
    "aclnnop/aclnn_weight_quant_batch_matmul_v2.h": (
        _META + ["aclnnWeightQuantBatchMatmulV2GetWorkspaceSize"], ["ACL_INT8"], ["aclTensor *"], []),
    "aclnnop/aclnn_dynamic_quant.h": (
        ["aclCreateTensor", "aclDestroyTensor", "aclnnDynamicQuantGetWorkspaceSize", "aclnnDynamicQuant", "malloc"],
        ["ACL_INT8", "ACL_FLOAT16"], ["aclTensor *", "aclOpExecutor *", "aclrtStream"], []),
    "aclnnop/aclnn_mm.h": (_META + ["aclnnMmGetWorkspaceSize", "aclnnMm"], ["ACL_FLOAT"], ["aclTensor *"], []),
    "aclnnop/aclnn_matmul.h": (_META + ["aclnnMatmulGetWorkspaceSize", "aclnnMatmul"], ["ACL_BF16"],
                               ["aclTensor *"], []),
    "aclnnop/aclnn_cast.h": (_META + ["aclnnCastGetWorkspaceSize", "aclnnCast"], ["ACL_DOUBLE"], ["aclDataType"],
                             []),
    "aclnnop/aclnn_permute.h": (_META + ["aclnnPermuteGetWorkspaceSize", "aclnnPermute"], ["ACL_INT64"],
                                ["aclIntArray *"], []),
    "aclnn/opdev/fp16_t.h": ([], [], [], ["static_cast<float>(op::fp16_t(1.5f))", "std::max(1, 2)",
                                          "std::fabs(-1.0)", "std::sqrt(4.0)", "fabs(-2.0)", "sizeof(uint16_t)"]),
}


#: A chain uses functions by address: no warning for that, nor for the functions CANN deprecates
#: (test_deprecated_entry_points_warn_as_in_cann checks those).
CHAIN_FLAGS = ["-Wno-address", "-Wno-deprecated-declarations"]


def _chain_source(rel, cxx):
    functions, values, types, cxx_exprs = INCLUDE_CHAINS[rel]
    lines = ['#include "%s"' % rel, "int use_chain(void);", "int use_chain(void)", "{", "    long n = 0;"]
    lines += ["    n += (long)sizeof(%s);" % t for t in types]
    lines += ["    n += (&%s != 0);" % f for f in functions]
    lines += ["    n += (long)(%s);" % v for v in values]
    if cxx:
        lines += ["    n += (long)(%s);" % e for e in cxx_exprs]
    lines += ["    return (int)n;", "}"]
    return "\n".join(lines) + "\n"


def test_include_chains_cover_every_header():
    assert sorted(INCLUDE_CHAINS) == sorted(h for h in HEADERS if h not in (
        "acl/error_codes/rt_error_codes.h", "aclnn/opdev/op_errno.h", "hccl/hccl_types.h", "aclnnop/aclnn_util.h"))


@needs_gcc
@pytest.mark.parametrize("rel", sorted(h for h in INCLUDE_CHAINS if h not in CXX_ONLY_HEADERS))
def test_include_chain_c(tmp_path, rel):
    src = tmp_path / "chain.c"
    src.write_text(_chain_source(rel, cxx=False))
    _run([GCC, "-std=c99"] + C_FLAGS + CHAIN_FLAGS + ["-I", str(INCLUDE), "-fsyntax-only", str(src)])


@needs_gxx
@pytest.mark.parametrize("std", ["c++11", "c++17"])
def test_include_chains_cxx(tmp_path, std):
    """Every chain at once is too lenient (headers would fill each other's gaps): one TU per header."""
    for rel in sorted(INCLUDE_CHAINS):
        src = tmp_path / ("chain_%s.cpp" % rel.replace("/", "_"))
        src.write_text(_chain_source(rel, cxx=True).replace("(void)", "()"))
        _run([GXX, "-std=" + std] + CXX_FLAGS + CHAIN_FLAGS + ["-I", str(INCLUDE), "-fsyntax-only", str(src)])


@needs_gcc
@pytest.mark.parametrize("version, deprecated", [("", True), ("V2", True), ("V3", True), ("V4", True),
                                                 ("V5", False), ("WeightNz", False)])
def test_deprecated_entry_points_warn_as_in_cann(tmp_path, version, deprecated):
    """CANN's GroupedMatmul V1-V4 headers mark both functions deprecated (ops-transformer
    gmm/grouped_matmul/op_api/aclnn_grouped_matmul*.h, 2026-08): a call warns (an error under
    -Werror), as against CANN; V5 and WeightNz do not."""
    suffix = {"": "", "WeightNz": "_weight_nz"}.get(version, "_" + version.lower())
    src = tmp_path / "use.c"
    src.write_text(f'#include "aclnnop/aclnn_grouped_matmul{suffix}.h"\n'
                   f"int use(void);\nint use(void) {{ return (int)aclnnGroupedMatmul{version}(0, 0, 0, 0); }}\n")
    proc = subprocess.run([GCC, "-std=c99"] + C_FLAGS + ["-I", str(INCLUDE), "-fsyntax-only", str(src)],
                          capture_output=True, text=True)
    assert (proc.returncode != 0) == deprecated, proc.stderr
    assert ("deprecated" in proc.stderr) == deprecated, proc.stderr


def test_include_chain_regression_is_caught(tmp_path):
    """The chain check itself fails when a header loses what it must bring."""
    if GCC is None:
        pytest.skip("gcc not found on PATH")
    src = tmp_path / "chain.c"
    src.write_text(_chain_source("aclnn/aclnn_base.h", cxx=False) + "int more(void) { return aclrtSetDevice(0); }\n")
    proc = subprocess.run([GCC, "-std=c99"] + C_FLAGS + ["-I", str(INCLUDE), "-fsyntax-only", str(src)],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "aclrtSetDevice" in proc.stderr


# ---------------------------------------------------------------------------
# The ABI check program (C++, no libraries): layouts, defaults, values, fp16
# ---------------------------------------------------------------------------


def _constant_asserts():
    lines = []
    for name, value in ALL_CONSTANTS.items():
        lines.append('static_assert(static_cast<long long>(%s) == %dLL, "%s");' % (name, value, name))
    return "\n".join(lines)


def _offset_asserts():
    return "\n".join(
        'static_assert(offsetof(HcclCommConfig, %s) == %d, "offset of %s");' % (f, o, f)
        for f, o in HCCL_COMM_CONFIG_OFFSETS)


ABI_PROGRAM = r"""
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>
""" + _includes(HEADERS) + r"""

/* ---- every constant of the headers, value from the ABI facts ---- */
@CONSTANT_ASSERTS@

/* ---- scalar types (LP64) ---- */
static_assert(sizeof(void *) == 8 && sizeof(size_t) == 8, "LP64 expected");
static_assert(std::is_same<aclError, int>::value, "aclError is int");
static_assert(std::is_same<aclnnStatus, int32_t>::value, "aclnnStatus is int32_t");
static_assert(std::is_same<aclFloat16, uint16_t>::value, "aclFloat16 is uint16_t");
static_assert(std::is_same<aclrtStream, void *>::value && std::is_same<aclrtContext, void *>::value &&
              std::is_same<aclrtEvent, void *>::value && std::is_same<aclrtNotify, void *>::value &&
              std::is_same<HcclComm, void *>::value, "opaque handles are void *");
static_assert(sizeof(aclDataType) == 4 && sizeof(aclFormat) == 4 && sizeof(HcclResult) == 4 &&
              sizeof(HcclDataType) == 4 && sizeof(HcclReduceOp) == 4 && sizeof(aclrtMemcpyKind) == 4 &&
              sizeof(aclrtMemMallocPolicy) == 4, "enums are 4 bytes");
static_assert(sizeof(HcclConfigValue) == 4, "HcclConfigValue");

/* ---- struct layouts (hcomm's hccl_types.h) ---- */
static_assert(sizeof(HcclCommConfig) == 2240 && alignof(HcclCommConfig) == 8, "HcclCommConfig v10");
@OFFSET_ASSERTS@
/* HcclSendRecvItem as hicann/hcomm include/hccl/hccl_types.h lays it out (LP64) */
static_assert(sizeof(HcclSendRecvItem) == 32 && alignof(HcclSendRecvItem) == 8, "HcclSendRecvItem");
static_assert(offsetof(HcclSendRecvItem, sendRecvType) == 0 && offsetof(HcclSendRecvItem, buf) == 8 &&
              offsetof(HcclSendRecvItem, count) == 16 && offsetof(HcclSendRecvItem, dataType) == 24 &&
              offsetof(HcclSendRecvItem, remoteRank) == 28, "HcclSendRecvItem offsets");
static_assert(sizeof(HcclSendRecvType) == 4, "HcclSendRecvType is 4 bytes");
#define FIELD_TYPE(S, f, T) static_assert(std::is_same<decltype(S::f), T>::value, #S "." #f " type")
FIELD_TYPE(HcclCommConfig, reserved, char[24]);
FIELD_TYPE(HcclCommConfig, hcclBufferSize, uint32_t);
FIELD_TYPE(HcclCommConfig, hcclDeterministic, uint32_t);
FIELD_TYPE(HcclCommConfig, hcclCommName, char[128]);
FIELD_TYPE(HcclCommConfig, hcclUdi, char[128]);
FIELD_TYPE(HcclCommConfig, hcclOpExpansionMode, uint32_t);
FIELD_TYPE(HcclCommConfig, hcclRdmaTrafficClass, uint32_t);
FIELD_TYPE(HcclCommConfig, hcclRdmaServiceLevel, uint32_t);
FIELD_TYPE(HcclCommConfig, hcclWorldRankID, uint32_t);
FIELD_TYPE(HcclCommConfig, hcclJobID, uint64_t);
FIELD_TYPE(HcclCommConfig, aclGraphZeroCopyEnable, uint8_t);
FIELD_TYPE(HcclCommConfig, hcclExecTimeOut, int32_t);
FIELD_TYPE(HcclCommConfig, hcclAlgo, char[1600]);
FIELD_TYPE(HcclCommConfig, hcclRetryEnable, char[50]);
FIELD_TYPE(HcclCommConfig, hcclRetryParams, char[128]);
FIELD_TYPE(HcclCommConfig, hcclBufferName, char[128]);
FIELD_TYPE(HcclCommConfig, hcclQos, uint32_t);
FIELD_TYPE(HcclCommConfig, hcclSymWinMaxMemSizePerRank, uint64_t);
FIELD_TYPE(HcclRootInfo, internal, char[4108]);
FIELD_TYPE(HcclConfigValue, value, int32_t);
FIELD_TYPE(aclCANNPackageVersion, version, char[128]);
FIELD_TYPE(aclCANNPackageVersion, majorVersion, char[64]);
FIELD_TYPE(aclCANNPackageVersion, minorVersion, char[64]);
FIELD_TYPE(aclCANNPackageVersion, releaseVersion, char[64]);
FIELD_TYPE(aclCANNPackageVersion, patchVersion, char[64]);
FIELD_TYPE(aclCANNPackageVersion, reserved, char[128]);
static_assert(std::is_same<struct HcclCommConfigDef, HcclCommConfig>::value, "struct tag HcclCommConfigDef");
static_assert(std::is_same<struct HcclRootInfoDef, HcclRootInfo>::value, "struct tag HcclRootInfoDef");
static_assert(sizeof(HcclRootInfo) == 4108 && alignof(HcclRootInfo) == 1, "HcclRootInfo");
static_assert(offsetof(HcclRootInfo, internal) == 0, "HcclRootInfo.internal");
static_assert(sizeof(aclCANNPackageVersion) == 512, "aclCANNPackageVersion");
static_assert(offsetof(aclCANNPackageVersion, majorVersion) == 128 &&
              offsetof(aclCANNPackageVersion, minorVersion) == 192 &&
              offsetof(aclCANNPackageVersion, releaseVersion) == 256 &&
              offsetof(aclCANNPackageVersion, patchVersion) == 320 &&
              offsetof(aclCANNPackageVersion, reserved) == 384, "aclCANNPackageVersion offsets");

/* ---- key prototypes, spelled independently of the headers ---- */
typedef int (*Phase2)(void *, uint64_t, aclOpExecutor *, const aclrtStream);  /* torch_npu's type */
static_assert(std::is_same<decltype(&aclnnQuantMatmulAllReduce), Phase2>::value, "V1 phase 2");
static_assert(std::is_same<decltype(&aclnnQuantMatmulAllReduceV2), Phase2>::value, "V2 phase 2");
static_assert(std::is_same<decltype(&aclnnQuantMatmulAllReduceV3), Phase2>::value, "V3 phase 2");
static_assert(std::is_same<decltype(&aclnnQuantMatmulAllReduceV4), Phase2>::value, "V4 phase 2");
static_assert(std::is_same<decltype(&aclnnGroupedMatmulV5), Phase2>::value, "V5 phase 2");
static_assert(std::is_same<decltype(&aclnnTransMatmulWeight), Phase2>::value, "TransMatmulWeight phase 2");
static_assert(std::is_same<decltype(&aclnnTransQuantParamV2), Phase2>::value, "TransQuantParamV2 phase 2");
typedef const aclTensor *T;
typedef const aclTensorList *TL;
static_assert(std::is_same<decltype(&aclnnQuantMatmulAllReduceV4GetWorkspaceSize),
              int (*)(T, T, T, T, T, T, T, T, const char *, const char *, int64_t, int64_t, int64_t, int64_t,
                      T, uint64_t *, aclOpExecutor **)>::value, "V4 phase 1 (17 params)");
static_assert(std::is_same<decltype(&aclnnQuantMatmulAllReduceGetWorkspaceSize),
              int (*)(T, T, T, T, T, const char *, const char *, int64_t, int64_t, T, uint64_t *,
                      aclOpExecutor **)>::value, "V1 phase 1 (12 params)");
static_assert(std::is_same<decltype(&aclnnQuantMatmulAllReduceV2GetWorkspaceSize),
              int (*)(T, T, T, T, T, T, const char *, const char *, int64_t, int64_t, T, uint64_t *,
                      aclOpExecutor **)>::value, "V2 phase 1 (13 params)");
static_assert(std::is_same<decltype(&aclnnQuantMatmulAllReduceV3GetWorkspaceSize),
              int (*)(T, T, T, T, T, T, T, T, const char *, const char *, int64_t, int64_t, T, uint64_t *,
                      aclOpExecutor **)>::value, "V3 phase 1 (15 params)");
static_assert(std::is_same<decltype(&aclnnGroupedMatmulV5GetWorkspaceSize),
              int (*)(TL, TL, TL, TL, TL, TL, TL, TL, T, TL, TL, TL, int64_t, int64_t, int64_t, int64_t,
                      aclIntArray *, aclTensorList *, aclTensorList *, aclTensorList *, uint64_t *,
                      aclOpExecutor **)>::value, "V5 phase 1 (22 params)");
static_assert(std::is_same<decltype(&aclnnCalculateMatmulWeightSizeV2),
              int (*)(const aclIntArray *, aclDataType, uint64_t *)>::value, "CalculateMatmulWeightSizeV2");
static_assert(std::is_same<decltype(&aclnnTransMatmulWeightGetWorkspaceSize),
              int (*)(aclTensor *, uint64_t *, aclOpExecutor **)>::value, "TransMatmulWeight phase 1");
static_assert(std::is_same<decltype(&aclnnTransQuantParamV2GetWorkspaceSize),
              int (*)(T, T, T, uint64_t *, aclOpExecutor **)>::value, "TransQuantParamV2 phase 1");
static_assert(std::is_same<decltype(&aclCreateTensor),
              aclTensor *(*)(const int64_t *, uint64_t, aclDataType, const int64_t *, int64_t, aclFormat,
                             const int64_t *, uint64_t, void *)>::value, "aclCreateTensor");
static_assert(std::is_same<decltype(&aclCreateTensorList),
              aclTensorList *(*)(const aclTensor *const *, uint64_t)>::value, "aclCreateTensorList");
static_assert(std::is_same<decltype(&aclCreateBoolArray), aclBoolArray *(*)(const bool *, uint64_t)>::value,
              "aclCreateBoolArray");
static_assert(std::is_same<decltype(&aclrtMemcpyAsync),
              int (*)(void *, size_t, const void *, size_t, aclrtMemcpyKind, void *)>::value, "aclrtMemcpyAsync");
static_assert(std::is_same<decltype(&aclrtMalloc), int (*)(void **, size_t, aclrtMemMallocPolicy)>::value,
              "aclrtMalloc");
static_assert(std::is_same<decltype(&HcclAllReduce),
              HcclResult (*)(void *, void *, uint64_t, HcclDataType, HcclReduceOp, void *, void *)>::value,
              "HcclAllReduce");
static_assert(std::is_same<decltype(&HcclCommInitRootInfoConfig),
              HcclResult (*)(uint32_t, const HcclRootInfo *, uint32_t, const HcclCommConfig *, void **)>::value,
              "HcclCommInitRootInfoConfig");
static_assert(std::is_same<decltype(&HcclGetCommConfigCapability), uint32_t (*)()>::value, "capability");

/* ---- op::fp16_t type properties ---- */
static_assert(sizeof(op::fp16_t) == 2, "fp16_t size");
static_assert(std::is_trivially_copyable<op::fp16_t>::value, "fp16_t trivially copyable");
static_assert(std::is_default_constructible<op::fp16_t>::value, "fp16_t default constructible");

static int failures = 0;
#define CHECK(cond)                                                   \
    do {                                                              \
        if (!(cond)) {                                                \
            std::printf("FAILED line %d: %s\n", __LINE__, #cond);     \
            ++failures;                                               \
        }                                                             \
    } while (0)

static uint16_t bits(op::fp16_t h) { return h.val; }

static void check_comm_config_init()
{
    /* Expected bytes built from the offsets and defaults of hcomm's hccl_types.h and
       of HcclCommConfigInit (hccl_comm.h).
       Strings and padding: HcclCommConfigInit zeroes them completely. */
    unsigned char expected[2240];
    std::memset(expected, 0, sizeof(expected));
    const size_t size = 2240;
    const uint32_t magic = 0xf0f0f0f0u, version = 10, not_set = 0xffffffffu, zero32 = 0;
    const uint64_t zero64 = 0, symwin = 16;
    const int32_t timeout = -1;
    std::memcpy(expected + 0, &size, 8);
    std::memcpy(expected + 8, &magic, 4);
    std::memcpy(expected + 12, &version, 4);
    std::memcpy(expected + 16, &zero64, 8);
    std::memcpy(expected + 24, &not_set, 4);   /* hcclBufferSize */
    std::memcpy(expected + 28, &not_set, 4);   /* hcclDeterministic */
    std::memcpy(expected + 288, &zero32, 4);   /* hcclOpExpansionMode */
    std::memcpy(expected + 292, &not_set, 4);  /* hcclRdmaTrafficClass */
    std::memcpy(expected + 296, &not_set, 4);  /* hcclRdmaServiceLevel */
    std::memcpy(expected + 300, &zero32, 4);   /* hcclWorldRankID */
    std::memcpy(expected + 304, &zero64, 8);   /* hcclJobID */
    expected[312] = 0;                         /* aclGraphZeroCopyEnable */
    std::memcpy(expected + 316, &timeout, 4);  /* hcclExecTimeOut */
    std::memcpy(expected + 2228, &not_set, 4); /* hcclQos */
    std::memcpy(expected + 2232, &symwin, 8);  /* hcclSymWinMaxMemSizePerRank */

    HcclCommConfig config;
    std::memset(&config, 0xA5, sizeof(config));
    HcclCommConfigInit(&config);
    const unsigned char *got = reinterpret_cast<const unsigned char *>(&config);
    for (size_t i = 0; i < sizeof(expected); ++i) {
        if (got[i] != expected[i]) {
            std::printf("FAILED HcclCommConfigInit byte %zu: got 0x%02x expected 0x%02x\n", i, got[i], expected[i]);
            ++failures;
            break;
        }
    }
    CHECK(config.hcclExecTimeOut == HCCL_COMM_EXECTIMEOUT_CONFIG_NOT_SET);
    CHECK(config.hcclBufferSize == HCCL_COMM_BUFFSIZE_CONFIG_NOT_SET);
    CHECK(config.hcclSymWinMaxMemSizePerRank == HCCL_DEFAULT_SYMMETRIC_MEMORY_STRIDE);
}

static void check_fp16()
{
    CHECK(bits(op::fp16_t()) == 0x0000);
    CHECK(bits(op::fp16_t(1.0f)) == 0x3C00);
    CHECK(bits(op::fp16_t(1)) == 0x3C00);
    CHECK(bits(op::fp16_t(1.0)) == 0x3C00);
    CHECK(bits(op::fp16_t(-2)) == 0xC000);
    CHECK(bits(op::fp16_t(0.5f)) == 0x3800);
    CHECK(bits(op::fp16_t(-0.0f)) == 0x8000);
    CHECK(bits(op::fp16_t(65504.0f)) == 0x7BFF);
    CHECK(bits(op::fp16_t(65504)) == 0x7BFF);
    CHECK(bits(op::fp16_t(65519.99f)) == 0x7BFF);
    CHECK(bits(op::fp16_t(65520.0f)) == 0x7C00);
    CHECK(bits(op::fp16_t(-65520.0f)) == 0xFC00);
    CHECK(bits(op::fp16_t(1e10)) == 0x7C00);
    CHECK(bits(op::fp16_t(100000)) == 0x7C00);
    CHECK(bits(op::fp16_t(static_cast<uint64_t>(-1))) == 0x7C00);
    CHECK(bits(op::fp16_t(std::numeric_limits<float>::infinity())) == 0x7C00);
    CHECK(bits(op::fp16_t(-std::numeric_limits<double>::infinity())) == 0xFC00);
    CHECK(bits(op::fp16_t(1e-8)) == 0x0000);
    CHECK(bits(op::fp16_t(1e-8f)) == 0x0000);
    CHECK(bits(op::fp16_t(-1e-8f)) == 0x8000);
    CHECK(bits(op::fp16_t(std::ldexp(1.0f, -24))) == 0x0001);  /* smallest subnormal */
    CHECK(bits(op::fp16_t(std::ldexp(1.0, -25))) == 0x0000);   /* tie -> even (0) */
    CHECK(bits(op::fp16_t(std::ldexp(3.0, -26))) == 0x0001);   /* 0.75 ulp -> 1 */
    CHECK(bits(op::fp16_t(std::ldexp(3.0, -25))) == 0x0002);   /* 1.5 ulp tie -> even (2) */
    CHECK(bits(op::fp16_t(std::ldexp(1.0f, -14))) == 0x0400);  /* smallest normal */
    CHECK(bits(op::fp16_t(std::ldexp(1023.0, -24))) == 0x03FF); /* largest subnormal */
    CHECK(static_cast<float>(op::fp16_t(0.1f)) == 0.0999755859375f);
    CHECK(bits(op::fp16_t(2049.0f)) == 0x6800);                 /* tie -> 2048 */
    CHECK(static_cast<float>(op::fp16_t(2049.0f)) == 2048.0f);
    CHECK(static_cast<float>(op::fp16_t(2051.0f)) == 2052.0f);  /* tie -> 2052 */
    CHECK(static_cast<float>(op::fp16_t(2050.0f)) == 2050.0f);
    CHECK(static_cast<float>(op::fp16_t(2049.0001)) == 2050.0f);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    op::fp16_t hn(nan);
    CHECK((bits(hn) & 0x7C00) == 0x7C00 && (bits(hn) & 0x03FF) != 0);
    CHECK(std::isnan(static_cast<float>(hn)));
    CHECK(std::isnan(static_cast<float>(op::fp16_t(-std::numeric_limits<double>::quiet_NaN()))));
    CHECK(std::isnan(static_cast<float>(op::fp16_t::FromBits(0x7C01))));
    CHECK(std::isinf(static_cast<float>(op::fp16_t::FromBits(0x7C00))));
    CHECK(static_cast<float>(op::fp16_t::FromBits(0x0001)) == std::ldexp(1.0f, -24));
    CHECK(static_cast<float>(op::fp16_t::FromBits(0x7BFF)) == 65504.0f);
    CHECK(static_cast<float>(op::fp16_t::FromBits(0xC000)) == -2.0f);

    /* The usage of the operator docs' C++ samples. */
    std::vector<op::fp16_t> v(8, 1);
    CHECK(static_cast<float>(v[7]) == 1.0f);
    float f = v[3];  /* implicit conversion */
    CHECK(f == 1.0f);
    op::fp16_t copy = v[0];
    CHECK(bits(copy) == 0x3C00);

    /* Exhaustive: every finite value round-trips; every midpoint rounds to even,
       its neighbours round to the nearer value (float and double inputs). */
    for (uint32_t b = 0; b < 0x7C00; ++b) {
        for (uint32_t sign = 0; sign <= 0x8000; sign += 0x8000) {
            const uint16_t h = static_cast<uint16_t>(b | sign);
            const float x = static_cast<float>(op::fp16_t::FromBits(h));
            if (bits(op::fp16_t(x)) != h || bits(op::fp16_t(static_cast<double>(x))) != h) {
                std::printf("FAILED round trip 0x%04x\n", h);
                ++failures;
                return;
            }
            const double lo = static_cast<double>(x);
            const double hi = (b == 0x7BFF) ? (sign ? -65536.0 : 65536.0)
                                            : static_cast<double>(op::fp16_t::FromBits(static_cast<uint16_t>(h + 1)));
            const double mid = (lo + hi) / 2;
            const uint16_t even = (b & 1) ? static_cast<uint16_t>(h + 1) : h;
            const uint16_t below = bits(op::fp16_t(std::nextafter(mid, lo)));
            const uint16_t above = bits(op::fp16_t(std::nextafter(mid, hi)));
            const uint16_t below_f = bits(op::fp16_t(std::nextafter(static_cast<float>(mid), static_cast<float>(lo))));
            if (bits(op::fp16_t(mid)) != even || bits(op::fp16_t(static_cast<float>(mid))) != even ||
                below != h || above != static_cast<uint16_t>(h + 1) || below_f != h) {
                std::printf("FAILED rounding near 0x%04x\n", h);
                ++failures;
                return;
            }
        }
    }
}

int main()
{
    check_comm_config_init();
    check_fp16();
    if (failures != 0) {
        std::printf("%d failure(s)\n", failures);
        return 1;
    }
    std::printf("ok\n");
    return 0;
}
"""


@needs_gxx
def test_abi_program(tmp_path):
    src = tmp_path / "abi_check.cpp"
    src.write_text(ABI_PROGRAM.replace("@CONSTANT_ASSERTS@", _constant_asserts())
                   .replace("@OFFSET_ASSERTS@", _offset_asserts()))
    exe = tmp_path / "abi_check"
    _run([GXX, "-std=c++17", "-O1"] + CXX_FLAGS + ["-I", str(INCLUDE), str(src), "-o", str(exe)])
    assert _run([str(exe)]) == "ok\n"
