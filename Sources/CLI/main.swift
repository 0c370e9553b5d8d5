print("photovault")
