// The one translation unit that compiles Boost.Asio and Boost.Beast (the top CMakeLists defines
// BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION), so the other files that
// include them only instantiate templates instead of rebuilding the libraries.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
