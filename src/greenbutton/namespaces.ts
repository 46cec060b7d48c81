/** Where Green Button data lives: the XML namespaces of its documents, the path of its ESPI resources. */
export const ATOM_NS = 'http://www.w3.org/2005/Atom'
export const ESPI_NS = 'http://naesb.org/espi'
export const CUSTOMER_NS = 'http://naesb.org/espi/customer'
export const ESPI_RESOURCE_PATH = '/espi/1_1/resource'
