//! Sans-IO core of the Convene SDK.
