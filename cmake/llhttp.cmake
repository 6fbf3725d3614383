# llhttp 8.1.0 from Debian's node-llhttp, compiled as our own static library in strict mode.
# See ../shared/HTTP_HARDENING.md: strict mode always, never any llhttp_set_lenient_* call.
set(LLHTTP_SOURCE_DIR /usr/share/llhttp CACHE PATH "llhttp C sources (Debian node-llhttp)")
set(LLHTTP_INCLUDE_DIR /usr/share/include/llhttp CACHE PATH "llhttp.h (Debian node-llhttp)")
foreach(f api.c http.c llhttp.c)
  if(NOT EXISTS ${LLHTTP_SOURCE_DIR}/${f})
    message(FATAL_ERROR "${LLHTTP_SOURCE_DIR}/${f} missing: run scripts/install-deps (package node-llhttp)")
  endif()
endforeach()
add_library(llhttp STATIC ${LLHTTP_SOURCE_DIR}/api.c ${LLHTTP_SOURCE_DIR}/http.c
                          ${LLHTTP_SOURCE_DIR}/llhttp.c)
target_include_directories(llhttp SYSTEM PUBLIC ${LLHTTP_INCLUDE_DIR})
target_compile_definitions(llhttp PRIVATE LLHTTP_STRICT_MODE=1)
set_target_properties(llhttp PROPERTIES POSITION_INDEPENDENT_CODE ON C_STANDARD 99)
