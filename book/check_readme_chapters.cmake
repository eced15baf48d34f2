# book.readme: README.md's chapter table must be exactly what chapters/chapters.list says.
# Usage: cmake -DSOURCE_DIR=<checkout> -P book/check_readme_chapters.cmake
include(${CMAKE_CURRENT_LIST_DIR}/chapter_list.cmake)
workbook_readme_chapter_table(${SOURCE_DIR}/chapters/chapters.list expected)
file(READ ${SOURCE_DIR}/README.md readme)
string(FIND "${readme}" "${expected}" found)
if(found EQUAL -1)
  message(FATAL_ERROR "README.md's chapter table differs from chapters/chapters.list. It should read:\n${expected}")
endif()
message(STATUS "README.md's chapter table matches chapters/chapters.list")
