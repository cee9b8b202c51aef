# SPDX-License-Identifier: AGPL-3.0-or-later
# standalone.cmake - the settings of a benchmark built on its own
# (cmake -S bench/<name> -B DIR, as its run.sh does): the project's C
# dialect and warnings, Release by default, and the libraries they share.
set(CMAKE_C_STANDARD 17)
set(CMAKE_C_STANDARD_REQUIRED ON)
set(CMAKE_C_EXTENSIONS OFF)
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Release)
endif()
add_compile_definitions(_GNU_SOURCE)
add_compile_options(-Wall -Wextra -Wshadow -Wno-unused-parameter -fno-strict-aliasing -Werror)
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
