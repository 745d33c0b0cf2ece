#include "synchost_plugin.h"
