{"version": 1, "probe": "fra", "algorithm": "hmac-sha256", "signature": "094d5c2c2a457a319785014458ce7795f7acd9d4edff66cdccf0103fecf7c8d8"}
