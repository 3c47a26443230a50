#include "mtas/version.h"

namespace mtas {

const char* Version() { return MTAS_VERSION_STRING; }

}  // namespace mtas
