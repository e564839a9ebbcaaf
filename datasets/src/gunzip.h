// Internal: reading whole gzip files (zlib), for the data set loaders.
#pragma once

#include <string>
#include <vector>

namespace patlab {

// The decompressed bytes of a gzip file; throws std::runtime_error naming the file.
std::vector<unsigned char> gunzip_file(const std::string& path);

}  // namespace patlab
