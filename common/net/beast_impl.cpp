// The one translation unit that compiles Beast for the whole project.
#include <boost/beast/src.hpp>
