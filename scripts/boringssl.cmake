# Builds BoringSSL's libcrypto and libssl as static libraries from Debian's
# source package (android-platform-external-boringssl), using the file list
# the package ships in android-sources.cmake. No Go, no tests.
cmake_minimum_required(VERSION 3.16)
project(boringssl C CXX ASM)
set(BORINGSSL_ROOT ${CMAKE_CURRENT_SOURCE_DIR}/)
include(${CMAKE_CURRENT_SOURCE_DIR}/android-sources.cmake)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
set(CMAKE_C_STANDARD 11)
set(CMAKE_CXX_STANDARD 17)
add_compile_options(-w -fvisibility=hidden -DBORINGSSL_IMPLEMENTATION)
add_library(crypto STATIC ${crypto_sources} ${crypto_sources_linux_x86_64})
target_include_directories(crypto PRIVATE ${BORINGSSL_ROOT}src/include)
add_library(ssl STATIC ${ssl_sources})
target_include_directories(ssl PRIVATE ${BORINGSSL_ROOT}src/include)
