// The same program, compiled and linked by nvcc.
#include "static_blas_gemm.cpp"
