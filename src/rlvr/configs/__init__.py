"""Every config class of rlvr, one module per section; a leaf package that imports only its
own base (``rlvr.configs.base``). Loading YAML and overrides lives in ``rlvr.config``."""
