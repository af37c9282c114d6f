/*
 * aclnn/acl_meta.h -- aclnn meta API: tensors, scalars, arrays, executors.
 *
 * Part of aclnn-py, written from the declarations of CANN's opbase header
 * hicann/opbase include/nnopbase/aclnn/acl_meta.h.
 * Exported by libnnopbase.so (also reachable through a libopapi.so handle).
 * aclnnInit / aclnnFinalize are declared in aclnn/aclnn_base.h.
 * Include chain as CANN's (<cstdint>, <cstdlib>, acl/acl_base.h), in C form.
 */
#ifndef ACLNN_ACL_META_H
#define ACLNN_ACL_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "acl/acl_base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Status of every aclnn function; 0 = success, codes in aclnn/opdev/op_errno.h. */
typedef int32_t aclnnStatus;

/* Opaque objects: incomplete types, only pointers cross the ABI. */
typedef struct aclOpExecutor aclOpExecutor;
typedef struct aclTensor aclTensor;
typedef struct aclScalar aclScalar;
typedef struct aclIntArray aclIntArray;
typedef struct aclFloatArray aclFloatArray;
typedef struct aclBoolArray aclBoolArray;
typedef struct aclTensorList aclTensorList;
typedef struct aclScalarList aclScalarList;

/*
 * Creates a tensor descriptor (host object; does not copy device data).
 * viewDims / stride / offset are in ELEMENTS; stride NULL = contiguous.
 * storageDims is the physical shape; tensorData is the device address of
 * the storage base (32-byte aligned). format is used as both view and
 * storage format. Returns NULL if viewDims or storageDims is NULL with a
 * non-zero count. Free with aclDestroyTensor.
 */
aclTensor *aclCreateTensor(const int64_t *viewDims, uint64_t viewDimsNum, aclDataType dataType,
                           const int64_t *stride, int64_t offset, aclFormat format,
                           const int64_t *storageDims, uint64_t storageDimsNum, void *tensorData);
/* value points to one host value of type dataType. Free with aclDestroyScalar. */
aclScalar *aclCreateScalar(void *value, aclDataType dataType);
/* Copies size int64 values (host array). */
aclIntArray *aclCreateIntArray(const int64_t *value, uint64_t size);
/* Copies size float values (host array). */
aclFloatArray *aclCreateFloatArray(const float *value, uint64_t size);
/* Copies size bool values (1 byte each). */
aclBoolArray *aclCreateBoolArray(const bool *value, uint64_t size);
/*
 * Copies only the array of size tensor POINTERS; the list then owns the
 * tensors (aclDestroyTensorList destroys them).
 */
aclTensorList *aclCreateTensorList(const aclTensor *const *value, uint64_t size);
/* Takes size scalar pointers; the list then owns the scalars (aclDestroyScalarList destroys them). */
aclScalarList *aclCreateScalarList(const aclScalar *const *value, uint64_t size);

/* Destroy functions: NULL is accepted and returns 0. */
aclnnStatus aclDestroyTensor(const aclTensor *tensor);
aclnnStatus aclDestroyScalar(const aclScalar *scalar);
aclnnStatus aclDestroyIntArray(const aclIntArray *array);
aclnnStatus aclDestroyFloatArray(const aclFloatArray *array);
aclnnStatus aclDestroyBoolArray(const aclBoolArray *array);
/* Also destroys every tensor in the list: do not destroy them separately. */
aclnnStatus aclDestroyTensorList(const aclTensorList *array);
/* Also destroys every scalar in the list: do not destroy them separately. */
aclnnStatus aclDestroyScalarList(const aclScalarList *array);

/*
 * Shape / stride getters: *viewDims, *storageDims and *stridesValue are
 * allocated by the library with C++ new[] and must be released with
 * delete[] by the caller (free() is formally undefined behaviour).
 */
aclnnStatus aclGetViewShape(const aclTensor *tensor, int64_t **viewDims, uint64_t *viewDimsNum);
aclnnStatus aclGetStorageShape(const aclTensor *tensor, int64_t **storageDims, uint64_t *storageDimsNum);
aclnnStatus aclGetViewStrides(const aclTensor *tensor, int64_t **stridesValue, uint64_t *stridesNum);
/* View offset in elements. */
aclnnStatus aclGetViewOffset(const aclTensor *tensor, int64_t *offset);
aclnnStatus aclGetFormat(const aclTensor *tensor, aclFormat *format);
aclnnStatus aclGetDataType(const aclTensor *tensor, aclDataType *dataType);
/* Element counts of arrays and lists. */
aclnnStatus aclGetIntArraySize(const aclIntArray *array, uint64_t *size);
aclnnStatus aclGetFloatArraySize(const aclFloatArray *array, uint64_t *size);
aclnnStatus aclGetBoolArraySize(const aclBoolArray *array, uint64_t *size);
aclnnStatus aclGetTensorListSize(const aclTensorList *tensorList, uint64_t *size);
aclnnStatus aclGetScalarListSize(const aclScalarList *scalarList, uint64_t *size);

/* Re-initialises an existing tensor; same argument units as aclCreateTensor. */
aclnnStatus aclInitTensor(aclTensor *tensor, const int64_t *viewDims, uint64_t viewDimsNum,
                          aclDataType dataType, const int64_t *stride, int64_t offset, aclFormat format,
                          const int64_t *storageDims, uint64_t storageDimsNum, void *tensorDataAddr);

/*
 * Makes an executor reusable: call right after phase 1; phase 2 may then
 * run repeatedly and the caller frees it with aclDestroyAclOpExecutor.
 * A NULL executor returns 561103.
 */
aclnnStatus aclSetAclOpExecutorRepeatable(aclOpExecutor *executor);
/* Frees a repeatable executor (non-repeatable ones are freed by phase 2). */
aclnnStatus aclDestroyAclOpExecutor(aclOpExecutor *executor);

/* Update device addresses of a repeatable executor (index = tensor index). */
aclnnStatus aclSetInputTensorAddr(aclOpExecutor *executor, const size_t index, aclTensor *tensor, void *addr);
aclnnStatus aclSetOutputTensorAddr(aclOpExecutor *executor, const size_t index, aclTensor *tensor, void *addr);
aclnnStatus aclSetTensorAddr(aclOpExecutor *executor, const size_t index, aclTensor *tensor, void *addr);
/* Same for a member of a tensor-list argument (irIndex = argument index). */
aclnnStatus aclSetDynamicInputTensorAddr(aclOpExecutor *executor, size_t irIndex, const size_t relativeIndex,
                                         aclTensorList *tensors, void *addr);
aclnnStatus aclSetDynamicOutputTensorAddr(aclOpExecutor *executor, size_t irIndex, const size_t relativeIndex,
                                          aclTensorList *tensors, void *addr);
aclnnStatus aclSetDynamicTensorAddr(aclOpExecutor *executor, size_t irIndex, const size_t relativeIndex,
                                    aclTensorList *tensors, void *addr);
/* Raw device address of a tensor (storage base). */
aclnnStatus aclSetRawTensorAddr(aclTensor *tensor, void *addr);
aclnnStatus aclGetRawTensorAddr(const aclTensor *tensor, void **addr);

#ifdef __cplusplus
}
#endif

#endif
